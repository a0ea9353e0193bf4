// Interests see only top-level messages. Calls an interest would take
// that run nested (here inside a conc inside a seq) are not routed: the
// run says so once per interest, naming the first such call.
import passes
action write(x) { print("write {x}") }
action write_many(xs) { print("write_many {xs}") }
action done() { print("done") }
interest "writes" when call(write, _)
pass "writes" (msgs) { passes.batch(msgs, write_many) }
seq([conc([call(write, 1), call(write, 2)]), call(done)])
// expect: write 1
// expect: write 2
// expect: done
// stderr: warning: 2 call(s) that interest "writes" matches ran without being routed
// stderr: (first: call(write, 1))

// observe copies; interest takes. A pass's output skips its own topic.
action work(x) { print("work {x}") }
action audit(xs) { print("audit saw {len(xs)}") }
observe "audit" when call(work, _)
pass "audit" (msgs) { [call(audit, msgs)] }
conc([call(work, 1), call(work, 2)])
// expect: work 1
// expect: work 2
// expect: audit saw 2

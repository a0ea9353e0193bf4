import passes
action write(x) {}
action write_many(xs) { print("write_many {xs}") }
interest "writes" when call(write, _)
pass "writes" (msgs) { passes.batch(msgs, write_many) }
conc([call(write, 1), call(write, 2), call(write, 3)])
// expect: write_many [1, 2, 3]

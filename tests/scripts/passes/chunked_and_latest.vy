import passes
action put(x) {}
action put_many(xs) { print("put_many {xs}") }
action set(key, value) { print("set {key} = {value}") }
interest "puts" when call(put, _)
pass "puts" (msgs) { passes.chunked(msgs, 2, put_many) }
interest "sets" when call(set, _, _)
pass "sets" (msgs) { passes.latest_by(msgs, fn(m) { m.args[0] }) }
conc([
  call(put, 1),
  call(put, 2),
  call(put, 3),
  call(set, "a", 1),
  call(set, "b", 1),
  call(set, "a", 2),
])
// expect: put_many [1, 2]
// expect: put_many [3]
// expect: set b = 1
// expect: set a = 2

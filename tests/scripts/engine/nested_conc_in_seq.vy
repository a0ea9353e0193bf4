action log(x) { print(x) }
seq([
  call(log, "start"),
  conc([seq([call(log, "a1"), call(log, "a2")]), seq([call(log, "b1"), call(log, "b2")])]),
  call(log, "end")
])
// expect: start
// expect: a1
// expect: b1
// expect: a2
// expect: b2
// expect: end

// An action's result: nil or [] is nothing; a message is that message; a
// list of messages is those; any other value is data(v).
action log(x) { print(x) }
action one() { call(log, "one") }
action many() { [call(log, "m1"), call(log, "m2")] }
action none() { [] }
action value() { 42 }
action collect(xs) { print(xs) }
seq([
  call(one),
  call(many),
  call(none),
  call(log, "after"),
  promise([call(value), call(none)], collect),
])
// expect: one
// expect: m1
// expect: m2
// expect: after
// expect: [42]

// A fatal error dead-letters its whole item; other items go on.
action log(x) { print(x) }
action boom() { fail("disk full") }
seq([call(log, "a1"), call(boom), call(log, "a2 never runs")])
seq([call(log, "b1"), call(log, "b2")])
// expect: a1
// expect: b1
// expect: b2
// expect runtime error: E0300
// expect runtime error: disk full
// expect runtime error: dead letter 1 of 1: seq([call(boom), call(log, "a2 never runs")])

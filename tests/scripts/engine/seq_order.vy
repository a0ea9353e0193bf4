// A seq runs in order; the results of a step go to its front.
action log(x) { print(x) }
action expand(x) { [call(log, x + "1"), call(log, x + "2")] }
seq([call(log, "a"), call(expand, "b"), call(log, "c")])
// expect: a
// expect: b1
// expect: b2
// expect: c

// Items of the main queue take turns, one step each; a conc's results go
// to its back.
action log(x) { print(x) }
seq([call(log, "x1"), call(log, "x2"), call(log, "x3")])
seq([call(log, "y1"), call(log, "y2"), call(log, "y3")])
// expect: x1
// expect: y1
// expect: x2
// expect: y2
// expect: x3
// expect: y3

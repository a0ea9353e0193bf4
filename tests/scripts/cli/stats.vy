// args: --stats
action log(x) { print(x) }
seq([call(log, 1), call(log, 2)])
// expect: 1
// expect: 2
// stderr: steps:          2
// stderr: dead letters:   0

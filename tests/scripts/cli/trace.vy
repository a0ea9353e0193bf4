// args: --trace
action log(x) { print(x) }
seq([call(log, 1), call(log, 2)])
// expect: 1
// expect: 2
// stderr: trace: step 1 #1 seq([call(log, 1), call(log, 2)]) -> [(continues) call(log, 2)]

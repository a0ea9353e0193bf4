// command: check
action log(x) { print(x) }
call(log, 1)
// exit: 0

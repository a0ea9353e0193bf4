// Bad input to constructors is an error in the action, which becomes a
// dead letter; the run goes on.
action neg() { delay(-1s) }
action notmsg() { seq([1, 2]) }
action badcb() { promise([], 5) }
action log(x) { print(x) }
conc([call(neg), call(notmsg), call(badcb), call(log, "still running")])
// expect: still running
// expect runtime error: delay of a negative duration (-1s)
// expect runtime error: seq expects a list of messages, but it holds int `1`
// expect runtime error: promise callback must be an action or a call(...) message

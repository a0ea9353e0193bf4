// A literal where `call` needs an action is never one: `check` says so.
action greet(who) { print(who) }
call("greet")
call(42, 1)
// command: check
// error: [E0101]
// error: A string is not an action
// error: name the action itself, without quotes: `greet`
// error: An int is not an action

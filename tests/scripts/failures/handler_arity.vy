// A handler must take the arguments written and the error record; a next
// step, those and the result. Checked when the script is, for a declared
// action; when the message is built, for one in a variable.
action deploy(host) { print(host) }
action rollback(host) { print(host) }
action show(a, b) { print(b) }
catch(call(deploy, "a"), call(rollback, "a"))
then(call(deploy, "a"), show)
// error: E0113
// error: The catch's handler `rollback` takes 1 argument but would get 2: the 1 written here and the error record
// error: The then's next step `show` takes 2 arguments but would get 1: the result

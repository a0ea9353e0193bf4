// An action in a variable is checked where catch(…) is evaluated.
action deploy(host) { print(host) }
action rollback(host) { print(host) }
let r = rollback
catch(call(deploy, "a"), call(r, "a"))
// expect runtime error: E0207
// expect runtime error: catch's handler `rollback` takes 1 argument but would get 2

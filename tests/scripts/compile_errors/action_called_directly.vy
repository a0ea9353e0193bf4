action greet(who) { print(who) }
greet("x")
// error: E0110
// error: `greet` is an action: it runs through a message
// error: write `call(greet, …)` to make the message

action greet(who) { print("hello, {who}") }
call(gret, "x")
// error: E0101
// error: There is no action `gret`
// error: did you mean `greet`?

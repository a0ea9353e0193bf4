action greet(who) { print("hello, {who}") }
prnt(1)
let y = totl + 1
// error: E0100
// error: I don't know the name `prnt`
// error: did you mean `print`?
// error: I don't know the name `totl`

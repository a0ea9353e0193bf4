fn f() { 1 }
f = 2
len = 3
1 = 2
undeclared = 4
// error: E0104
// error: `f` is a function; it cannot be assigned
// error: `len` is part of the prelude; it cannot be assigned
// error: I can't assign to this
// error: I don't know the name `undeclared`

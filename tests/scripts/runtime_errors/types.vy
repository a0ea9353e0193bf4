action bad() { 1 + "a" }
call(bad)
// expect runtime error: E0200
// expect runtime error: cannot apply `+` to int `1` and string `"a"`

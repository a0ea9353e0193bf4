action check(x) { assert(x > 0, "x must be positive, got {x}") }
call(check, 1)
call(check, -1)
// expect runtime error: E0206
// expect runtime error: assertion failed: x must be positive, got -1

fn square(x) { x * x }
call(square, 2)
call(print, 1)
// error: E0101
// error: `square` is a function, not an action
// error: `print` is a prelude function, not an action

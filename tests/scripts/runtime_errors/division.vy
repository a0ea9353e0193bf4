fn half(x) { x / 0 }
action go() { half(1) }
call(go)
// expect runtime error: E0202
// expect runtime error: division by zero
// expect runtime error: call stack (innermost first):
// expect runtime error: fn half at
// expect runtime error: action go at

fn down(n) { down(n + 1) }
action go() { down(0) }
call(go)
// expect runtime error: E0205
// expect runtime error: stack overflow

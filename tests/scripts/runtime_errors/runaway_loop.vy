// args: --max-instructions 10000
action spin() { while true {} }
action log(x) { print(x) }
call(spin)
call(log, "others still run")
// expect: others still run
// expect runtime error: instruction budget used up

// An action held in a variable is checked when `call(…)` or `promise(…)`
// is evaluated: a count of arguments no run can take fails there (here in
// the actions that build them, each a dead letter), before any of the
// promise's work runs.
action one(a) { print(a) }
action two(a, b) { print(b) }
let o = one
let t = two
action p1() { promise([data(1)], call(o, 5)) }
action p2() { promise([data(2)], t) }
action p3() { promise([data(3)], call(t, 7)) }
action p4() { promise([call(sh, "echo never"), data(4)], call(sh, "true", {})) }
action c1() { call(t, 1, 2, 3) }
call(p1)
call(p2)
call(p3)  // expect: [3]
call(p4)
call(c1)
// expect runtime error: 4 dead letter(s)
// expect runtime error: E0207
// expect runtime error: The promise's callback `one` takes 1 argument but would get 2: the 1 written in `call(one, …)` and the list the promise collected
// expect runtime error: give `one` a parameter for it
// expect runtime error: its callback would get 2 arguments
// expect runtime error: The promise's callback `two` takes 2 arguments but would get 1: the list the promise collected
// expect runtime error: The promise's callback `sh` takes 1 to 2 arguments but would get 3
// expect runtime error: the callback `one`, declared with 1 parameter
// expect runtime error: write one argument fewer in `call(sh, …)`
// expect runtime error: `two` takes 2 arguments but `call` gives it 3
// expect runtime error: `two` is declared here with 2 parameters

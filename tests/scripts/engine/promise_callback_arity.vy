// A promise appends the list it collected to its callback's arguments; a
// callback that cannot take them fails naming the promise and the callback.
action one(a) { print(a) }
action two(a, b) { print(b) }
promise([data(1)], call(one, 5))
promise([data(2)], two)
promise([data(3)], call(two, 7))  // expect: [3]
promise([data(4)], call(sh, "true", {}))
// expect runtime error: E0207
// expect runtime error: The promise's callback `one` takes 1 argument but would get 2: the 1 written in `call(one, …)` and the list the promise collected
// expect runtime error: give `one` a parameter for it
// expect runtime error: The promise's callback `two` takes 2 arguments but would get 1: the list the promise collected
// expect runtime error: The promise's callback `sh` takes 1 to 2 arguments but would get 3
// expect runtime error: the callback `one`, declared with 1 parameter
// expect runtime error: write one argument fewer in `call(sh, …)`

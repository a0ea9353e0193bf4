// One argument short of a declared action is right only for a promise's
// callback (the promise appends the list it collected): anywhere else
// `check` warns, and the call fails when it runs.
action two(a, b) { print(b) }
promise([data(2)], call(two, 7))  // expect: [2]
call(two, 1)
// stderr: [W0002] Warning: `call(two, …)` gives `two` 1 argument, but it takes 2
// expect runtime error: E0207
// expect runtime error: `two` takes 2 arguments but got 1

// `call` of a declared action with a count of arguments no run can take is
// a compile error at the call; a promise's callback counts the list the
// promise appends.
action two(a, b) { print(b) }
action one(a) { print(a) }
call(two, 1, 2, 3)
call(two)
promise([data(1)], call(one, 5))
promise([data(2)], two)
promise([data(3)], call(two, 7))
promise([data(4)], one)
// command: check
// error: [E0113]
// error: `two` takes 2 arguments but `call` gives it 3
// error: remove the extra argument
// error: `two` takes 2 arguments but `call` gives it 0
// error: The promise's callback `one` takes 1 argument but would get 2: the 1 written here and the list the promise collected
// error: The promise's callback `two` takes 2 arguments but would get 1: the list the promise collected
// error: `two` is declared here with 2 parameters
// error: 4 errors

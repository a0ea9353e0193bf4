action two(a, b) { print(a + b) }
call(two, 1, 2)  // expect: 3
call(two, 1)
// expect runtime error: E0207
// expect runtime error: `two` takes 2 arguments but got 1
// expect runtime error: `two` is declared here with 2 parameters

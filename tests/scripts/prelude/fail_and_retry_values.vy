action f() { fail({code: 7}) }
call(f)
// expect runtime error: {code: 7}

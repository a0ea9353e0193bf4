action value(x) { x }
action cb(xs) { fail("callback broke with {xs}") }
promise([call(value, 1)], cb)
// expect runtime error: callback broke with [1]

// A retry policy that cannot be is a compile error.
action a(x) retry 0 { print(x) }
// error: [E0126] Error: `retry 0` on action `a` is not a count of attempts
action b(x) backoff 2s { print(x) }
// error: `backoff` without `retry` on action `b`
action c(x) retry 2 retry 3 { print(x) }
// error: `retry` is given twice for action `c`
action d(x) per x retry 2 { print(x) }
// error: `per` alone sets no limit on action `d`
// The words stay names elsewhere.
let retry = 1
let backoff = 2

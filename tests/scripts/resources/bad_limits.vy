action a(x) limit 0 { print(x) }
action b(x) rate 0/s { print(x) }
action c(x) rate 3/d { print(x) }
action d(x) per x { print(x) }
action e(x) limit 1 limit 2 { print(x) }
action f(x) limit 4294967296 rate 4294967296/s { print(x) }
// error: `limit 0` would let no call of `a` run
// error: `rate 0/s` would let no call of `b` start
// error: `d` is not a unit of rate
// error: `per` alone sets no limit on action `d`
// error: `limit` is given twice for action `e`
// error: `limit 4294967296` is too large
// error: `rate 4294967296/s` is too large

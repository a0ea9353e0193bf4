action bad() {
  let r = {a: 1}
  r["b"]
}
action good() { print(get({a: 1}, "b", "default")) }
call(good)  // expect: default
call(bad)
// expect runtime error: E0204
// expect runtime error: missing key `b`

// Invalid JSON says where; a value with no JSON form says which and where.
action bad_text() { json_decode("[1, 2,]") }
action unquoted() { json_decode("\{a: 1\}") }
action trailing() { json_decode("[1] x") }
action too_deep() { json_decode(join(map(range(1000), fn(i) { "[" }))) }
action no_form() { json_encode({deploy: {timeout: 5s}}) }
action nan() { json_encode([1, 0.0 / 0.0]) }
action itself() {
  let xs = []
  push(xs, xs)
  json_encode(xs)
}
action not_text() { json_decode(42) }
call(bad_text)
call(unquoted)
call(trailing)
call(too_deep)
call(no_form)
call(nan)
call(itself)
call(not_text)
// expect runtime error: E0212
// expect runtime error: json_decode: invalid JSON at line 1, column 7: trailing comma
// expect runtime error: invalid JSON at line 1, column 2: key must be a string
// expect runtime error: invalid JSON at line 1, column 5: trailing characters
// expect runtime error: recursion limit exceeded
// expect runtime error: json_encode: a duration has no JSON form (at .deploy.timeout)
// expect runtime error: json_encode: NaN has no JSON form (at [1])
// expect runtime error: nested more than 512 deep
// expect runtime error: json_decode expects a string of JSON text, got int `42`

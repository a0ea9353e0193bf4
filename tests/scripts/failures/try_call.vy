// try_call(f, args…) catches a runtime error as a value, so input can be
// parsed defensively.
fn parse_port(text) { int(text) }
for text in ["8080", "http"] {
  let r = try_call(parse_port, text)
  if r.ok { print("port {r.value}") } else { print("bad port {text}: {r.error.code} {r.error.message}") }
}
print(try_call(fn() { json_decode("[1,") }).error.code)
print(try_call(fn(a, b) { a / b }, 1, 0))
print(try_call(fn() { fail("nope") }))
// expect: port 8080
// expect: bad port http: E0210 int: `http` is not an integer
// expect: E0212
// expect: {ok: false, error: {code: "E0202", message: "division by zero"}}
// expect: {ok: false, error: {code: "E0300", message: "nope"}}

fn describe(v) {
  match v {
    0 => "zero",
    "hi" => "greeting",
    -1 => "minus one",
    [] => "empty list",
    [x] => "one item {x}",
    [a, b, ..rest] => "{a}, {b} and {len(rest)} more",
    {kind: "audit", ..} => "an audit record",
    {x: 1, y} => "exactly x and y={y}",
    n if type_of(n) == "int" and n > 100 => "big",
    _ => "something else"
  }
}
print(describe(0))                         // expect: zero
print(describe("hi"))                      // expect: greeting
print(describe(-1))                        // expect: minus one
print(describe([]))                        // expect: empty list
print(describe([7]))                       // expect: one item 7
print(describe([1, 2, 3, 4]))              // expect: 1, 2 and 2 more
print(describe({kind: "audit", by: "x"}))  // expect: an audit record
print(describe({x: 1, y: 9}))              // expect: exactly x and y=9
print(describe({x: 1, y: 9, z: 0}))        // expect: something else
print(describe(500))                       // expect: big
print(describe(5))                         // expect: something else

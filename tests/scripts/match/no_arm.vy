fn f(x) { match x { 1 => "one" } }
print(f(1))  // expect: one
print(f(2))
// expect runtime error: E0209
// expect runtime error: no arm of this match fits int `2`

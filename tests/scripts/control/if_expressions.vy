fn sign(x) { if x > 0 { "+" } else if x < 0 { "-" } else { "0" } }
print([sign(5), sign(-5), sign(0)])  // expect: ["+", "-", "0"]
let v = if false { 1 }
print(v)  // expect: nil
let w = {
  let a = 2
  a * 21
}
print(w)  // expect: 42

fn square(x) { x * x }
print(square(7))  // expect: 49
fn fact(n) { if n <= 1 { 1 } else { n * fact(n - 1) } }
print(fact(20))  // expect: 2432902008176640000
fn early(x) {
  if x > 0 { return "positive" }
  "not positive"
}
print(early(1))   // expect: positive
print(early(-1))  // expect: not positive
fn nothing() { let a = 1 }
print(nothing())  // expect: nil
// Declarations are hoisted: used before they are declared.
print(later(2))  // expect: 4
fn later(x) { x + 2 }
let inc = fn(x) { x + 1 }
print(inc(1))                          // expect: 2
print(map([1, 2], fn(x) { x * 100 }))  // expect: [100, 200]

fn counter() {
  let n = 0
  fn() {
    n = n + 1
    n
  }
}
let c = counter()
c()
c()
print(c())  // expect: 3
let d = counter()
print(d())  // expect: 1
fn adder(k) { fn(x) { x + k } }
print(adder(10)(5))  // expect: 15
// Each loop iteration gets its own variable.
let fns = []
for i in range(3) { push(fns, fn() { i }) }
print(map(fns, fn(f) { f() }))  // expect: [0, 1, 2]
// Nested closures reach two levels out.
fn outer() {
  let a = 1
  fn middle() {
    fn inner() {
      a = a + 1
      a
    }
    inner
  }
  let f = middle()
  f()
  a
}
print(outer())  // expect: 2
// A local function can call itself.
fn run() {
  fn fib(n) { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }
  fib(15)
}
print(run())  // expect: 610

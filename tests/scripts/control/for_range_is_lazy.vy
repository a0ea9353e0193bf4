// `for i in range(a, b)` counts without building the list, so a huge range
// costs nothing until it is walked (range(0, 1e9) as a list is refused).
let n = 0
for i in range(0, 1000000000) {
  n = n + i
  if i == 4 { break }
}
print(n)                        // expect: 10
for i in range(3) { print(i) }  // expect: 0
                                // expect: 1
                                // expect: 2
for i in range(5, 2) { print("never") }
let xs = []
for i in range(0, 5) {
  if i % 2 == 1 { continue }
  push(xs, i)
}
print(xs)  // expect: [0, 2, 4]
fn pairs(n) {
  let out = []
  for i in range(0, n) { for j in range(i, n) { push(out, "{i}{j}") } }
  out
}
print(pairs(3))  // expect: ["00", "01", "02", "11", "12", "22"]
// A range held in a variable is still a list, as before.
let r = range(1, 3)
for i in r { print(i) }  // expect: 1
                         // expect: 2
for i in range("a", 3) {}
// expect runtime error: range expects an int, got string `"a"`

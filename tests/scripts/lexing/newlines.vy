// A newline ends a statement, except inside ( ) and [ ], after an operator
// or a comma; `;` also ends one.
let total = 1 +
  2 +
  3
print(total)  // expect: 6
let xs = [
  1,
  2
]
print(xs)  // expect: [1, 2]
print(max(
  3,
  4))  // expect: 4
let a = 1
let b = 2
print(a + b)  // expect: 3
let r = {
  k: 1,
  j: 2
}
print(r)  // expect: {k: 1, j: 2}
if a > b {
  print("no")
}
else {
  print("else on its own line")  // expect: else on its own line
}

let out = []
for x in [1, 2, 3, 4, 5] {
  if x == 2 { continue }
  if x == 5 { break }
  push(out, x)
}
print(out)  // expect: [1, 3, 4]
let i = 0
while i < 3 { i = i + 1 }
print(i)  // expect: 3
let n = 0
while true {
  n += 1
  if n >= 10 { break }
}
print(n)  // expect: 10
for x in range(2, 5) { print(x) }
// expect: 2
// expect: 3
// expect: 4
let grid = []
for a in range(2) {
  for b in range(2) {
    if b == 1 { continue }
    push(grid, [a, b])
  }
}
print(grid)  // expect: [[0, 0], [1, 0]]

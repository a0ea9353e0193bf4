fn depth(n) { if n == 0 { 0 } else { 1 + depth(n - 1) } }
print(depth(5000))  // expect: 5000

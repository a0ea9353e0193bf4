let total = 0
action add(n) { total = total + n }
action report() { print(total) }
let branches = map(range(0, 20000), fn(i) { call(add, i) })
seq([conc(branches), call(report)])
// expect: 199990000

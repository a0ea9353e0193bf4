let total = 0
action step(b, k) { b * 100 + k }
action sum_branch(vals) { total = total + reduce(vals, 0, fn(a, x) { a + x }) }
action report() { print(total) }
let branches = []
for b in range(0, 1000) {
  let steps = []
  for k in range(0, 100) { push(steps, call(step, b, k)) }
  push(branches, promise([seq(steps)], sum_branch))
}
seq([conc(branches), call(report)])

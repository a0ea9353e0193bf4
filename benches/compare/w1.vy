let total = 0
action inc(i) { total = total + i }
action report() { print(total) }
let calls = []
for i in range(0, 2000000) { push(calls, call(inc, i)) }
conc(calls)
seq([delay(1s), call(report)])

// A promise runs its queue, collects every data value, then calls back.
action fetch(n) { n * 10 }
action log(x) { print(x) }
action sum_up(label, values) { print("{label}: {values} = {sum(values)}") }
promise([call(fetch, 1), call(fetch, 2), data(5), call(fetch, 3)], call(sum_up, "total"))
// expect: total: [10, 20, 5, 30] = 65

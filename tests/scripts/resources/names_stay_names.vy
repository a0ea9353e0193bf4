// limit, per and rate are keywords only in an action's resource clause.
import passes
let limit = 2
let rate = 3
let per = limit * rate
print(per)
print(passes.limit([1, 2, 3], 2).ready)
// expect: 6
// expect: [1, 2]

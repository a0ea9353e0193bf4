fn f(x) { x }
action f(y) { y }
fn g(a, a) { a }
let r = {k: 1, k: 2}
// error: E0103
// error: `f` is declared twice
// error: Parameter `a` is declared twice
// error: Key `k` appears twice in this record

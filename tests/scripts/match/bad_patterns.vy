fn f(x) { x }
action a(x) {}
let m = match 1 {
  call(f, _) => 1,
  call(a, _, _) => 2,
  [p, p] => 3,
  data(1, 2) => 4,
  _ => 5
}
// error: E0112
// error: This pattern can never match: `f` is not an action
// error: This pattern can never match: `a` takes 1 argument
// error: `p` is bound twice in this pattern
// error: `data(…)` patterns take 1 sub-pattern

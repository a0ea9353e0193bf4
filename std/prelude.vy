// The prelude's Voyager half: always in scope. The Rust half (print, len,
// sort, the message constructors, …) is in src/vm/natives.rs.

// A new list of f(x) for every x in xs.
fn map(xs, f) {
  let out = []
  for x in xs { push(out, f(x)) }
  out
}

// A new list of the xs for which f(x) is truthy.
fn filter(xs, f) {
  let out = []
  for x in xs {
    if f(x) { push(out, x) }
  }
  out
}

// Folds xs from the left: f(f(init, x0), x1)…
fn reduce(xs, init, f) {
  let acc = init
  for x in xs { acc = f(acc, x) }
  acc
}

// Calls f(x) for every x; returns nil.
fn each(xs, f) {
  for x in xs { f(x) }
  nil
}

// Whether f(x) is truthy for some x.
fn any(xs, f) {
  for x in xs {
    if f(x) { return true }
  }
  false
}

// Whether f(x) is truthy for every x.
fn all(xs, f) {
  for x in xs {
    if not f(x) { return false }
  }
  true
}

// The first x for which f(x) is truthy, or nil.
fn find(xs, f) {
  for x in xs {
    if f(x) { return x }
  }
  nil
}

// The sum of a list of numbers (or durations); 0 for an empty list.
fn sum(xs) {
  if len(xs) == 0 { return 0 }
  let total = xs[0]
  for x in slice(xs, 1) { total = total + x }
  total
}

// [[0, x0], [1, x1], …]
fn enumerate(xs) {
  let out = []
  let i = 0
  for x in xs {
    push(out, [i, x])
    i = i + 1
  }
  out
}

// f(x) for every x, each a list, joined into one list.
fn flat_map(xs, f) {
  let out = []
  for x in xs {
    for y in f(x) { push(out, y) }
  }
  out
}

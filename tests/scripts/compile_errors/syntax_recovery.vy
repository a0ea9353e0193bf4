// Parsing recovers: every error in one run.
let = 1
let b = 2
let c = (1 +)
fn ok() { b }
let d = [1, 2
print(b)
// error: E0001
// error: I didn't expect `=` here
// error: expected a name
// error: I didn't expect `)` here
// error: is a `]` or `,` missing?

print("a\qb")
// error: E0004
// error: `\q` is not an escape I know

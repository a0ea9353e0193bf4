import passes
let x = passes.dedup
// error: E0100
// error: Module `passes` has no `dedup`
// error: did you mean `passes.dedupe`?

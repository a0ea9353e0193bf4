// args: --batch 1
// Copies from `observe` count toward --batch: with a batch of one, the
// pass runs as soon as the copy lands, before the next branch steps.
action p(x) { print(x) }
observe "seen" when data(_)
pass "seen" (msgs) {
  print("seen {map(msgs, fn(m) { m.value })}")
  []
}
conc([data(1), call(p, "x")])
// expect: seen [1]
// expect: x

// What is left of an item after a step is routed like a new message: the
// seq below is down to `call(w, 1)` after its first step, and the interest
// on `w` takes it into the topic, where the pass batches it.
import passes
action p(x) { print(x) }
action w(x) { print("w {x}") }
action wm(xs) { print("wm {xs}") }
interest "writes" when call(w, _)
pass "writes" (msgs) { passes.batch(msgs, wm) }
seq([call(p, "a"), call(w, 1)])
// expect: a
// expect: wm [1]

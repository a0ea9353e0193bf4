// args: --stats
import passes
action tick(i) { print("tick {i}") }
interest "ticks" when call(tick, _)
pass "ticks" (msgs) { passes.limit(msgs, 2) }
conc(map(range(5), fn(i) { call(tick, i) }))
// expect: tick 0
// expect: tick 1
// expect: tick 2
// expect: tick 3
// expect: tick 4
// stderr: topic "ticks":  5 in, 3 pass run(s)

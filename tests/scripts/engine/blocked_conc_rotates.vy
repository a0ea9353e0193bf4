// A blocked branch of a conc moves to the back; the others go on.
action log(x) { print("{x} at {now()}") }
conc([seq([delay(1s), call(log, "slow")]), seq([call(log, "fast1"), call(log, "fast2")])])
// expect: fast1 at 1970-01-01T00:00:00Z
// expect: fast2 at 1970-01-01T00:00:00Z
// expect: slow at 1970-01-01T00:00:01Z

// Under the virtual clock delays are instant and exact.
action log(x) { print("{x} at {now()}") }
seq([call(log, "a"), delay(2s), call(log, "b")])
seq([delay(1s), call(log, "c")])
conc([seq([delay(500ms), call(log, "d")]), call(log, "e")])
// expect: a at 1970-01-01T00:00:00Z
// expect: e at 1970-01-01T00:00:00Z
// expect: d at 1970-01-01T00:00:00.500Z
// expect: c at 1970-01-01T00:00:01Z
// expect: b at 1970-01-01T00:00:02Z

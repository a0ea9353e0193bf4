action log(x) { print("{x} at {now()}") }
seq([defer(now() + 1m), call(log, "deferred")])
call(log, "now")
// expect: now at 1970-01-01T00:00:00Z
// expect: deferred at 1970-01-01T00:01:00Z

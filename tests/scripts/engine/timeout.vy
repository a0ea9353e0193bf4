// args: --max-attempts 2
// timeout(d, m): m must finish within d, or it fails retryably (and is
// tried again from the start, after a backoff).
action log(x) { print("{x} at {now()}") }
timeout(1s, seq([call(log, "in time"), delay(500ms), call(log, "still in time")]))
timeout(1s, seq([call(log, "slow start"), delay(5s), call(log, "never")]))
// expect: in time at 1970-01-01T00:00:00Z
// expect: slow start at 1970-01-01T00:00:00Z
// expect: still in time at 1970-01-01T00:00:00.500Z
// expect: slow start at 1970-01-01T00:00:01.100Z
// expect runtime error: E0308
// expect runtime error: gave up after 2 attempts: timed out after 1s: seq([call(log, "slow start"), delay(5s), call(log, "never")])

// An action's own retry policy, in its clause: `retry n` attempts in all
// (`retry 1`: none again) and `backoff d`, the first wait (doubling). It
// holds for every call of the action instead of the run's --max-attempts
// and --backoff; a `retrying(m, policy)` around a call still wins.
let tries = {a: 0, b: 0, c: 0, d: 0}
action flaky(name) retry 3 backoff 2s {
  tries[name] = tries[name] + 1
  print("{name} attempt {tries[name]} at {now()}")
  retry("{name} is down")
}
action once(name) retry 1 {
  tries[name] = tries[name] + 1
  print("{name} attempt {tries[name]}")
  retry("{name} is down")
}
action limited(name) limit 1 retry 2 backoff 1s {
  tries[name] = tries[name] + 1
  print("{name} attempt {tries[name]} at {now()}")
  retry("{name} is down")
}
call(flaky, "a")
call(once, "b")
retrying(call(flaky, "c"), 1)
call(limited, "d")
// expect: a attempt 1 at 1970-01-01T00:00:00Z
// expect: b attempt 1
// expect: c attempt 1 at 1970-01-01T00:00:00Z
// expect: d attempt 1 at 1970-01-01T00:00:00Z
// expect: d attempt 2 at 1970-01-01T00:00:01Z
// expect: a attempt 2 at 1970-01-01T00:00:02Z
// expect: a attempt 3 at 1970-01-01T00:00:06Z
// expect runtime error: gave up after 3 attempts: a is down
// stderr: gave up after 1 attempts: b is down
// stderr: gave up after 1 attempts: c is down
// stderr: gave up after 2 attempts: d is down

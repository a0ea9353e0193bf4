// retrying(m, policy): the calls in m retry by the policy instead of the
// run's --max-attempts/--backoff: a number of attempts in all, or
// {attempts, backoff, max_backoff, on}.
let tries = {a: 0, b: 0, c: 0}
action flaky(name) {
  tries[name] = tries[name] + 1
  print("{name} attempt {tries[name]} at {now()}")
  retry("{name} is down")
}
retrying(call(flaky, "a"), 1)
retrying(call(flaky, "b"), {attempts: 3, backoff: 2s})
// Only the listed codes retry: E0301 is not E0307, so c fails at once.
retrying(call(flaky, "c"), {attempts: 4, on: ["E0307"]})
// expect: a attempt 1 at 1970-01-01T00:00:00Z
// expect: b attempt 1 at 1970-01-01T00:00:00Z
// expect: c attempt 1 at 1970-01-01T00:00:00Z
// expect: b attempt 2 at 1970-01-01T00:00:02Z
// expect: b attempt 3 at 1970-01-01T00:00:06Z
// expect runtime error: gave up after 3 attempts: b is down
// stderr: gave up after 1 attempts: a is down
// stderr: not retried (E0301 is not in the retry policy's `on`): c is down

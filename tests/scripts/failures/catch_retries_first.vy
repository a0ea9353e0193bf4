// A retryable failure is retried as usual; catch takes over only when the
// attempts are used up. The failing call inside a seq is named.
// args: --max-attempts 3
let tries = 0
action flaky(x) { tries = tries + 1; retry("service down ({tries})") }
action step(x) { print("step {x}") }
action fallback(err) { print("fallback after {err.attempts}: {err.message}; failed: {err.call}") }
catch(seq([call(step, 1), call(flaky, 2), call(step, 3)]), fallback)
// expect: step 1
// expect: fallback after 3: gave up after 3 attempts: service down (3); failed: call(flaky, 2)
// exit: 0

// A retryable failure waits out its backoff (100ms doubling) and runs again.
let tries = 0
action flaky() {
  tries = tries + 1
  print("try {tries} at {now()}")
  if tries < 4 { retry("not yet") }
  print("ok")
}
call(flaky)
// expect: try 1 at 1970-01-01T00:00:00Z
// expect: try 2 at 1970-01-01T00:00:00.100Z
// expect: try 3 at 1970-01-01T00:00:00.300Z
// expect: try 4 at 1970-01-01T00:00:00.700Z
// expect: ok

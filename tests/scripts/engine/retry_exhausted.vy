// args: --max-attempts 3 --backoff 1s
action never() {
  print("attempt at {now()}")
  retry("service down")
}
call(never)
// expect: attempt at 1970-01-01T00:00:00Z
// expect: attempt at 1970-01-01T00:00:01Z
// expect: attempt at 1970-01-01T00:00:03Z
// expect runtime error: gave up after 3 attempts: service down
// expect runtime error: dead letter 1 of 1: call(never) (attempts: 3)

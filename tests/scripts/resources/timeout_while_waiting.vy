// A timeout counts the wait for a turn: call 2 waits behind call 1 and
// times out; call 3, in line since the start, goes when call 1 is done.
action slow(n) limit 1 {
  print("slow {n} at {now()}")
  delay(1s)
}
conc([call(slow, 1), timeout(500ms, call(slow, 2)), call(slow, 3)])
// args: --max-attempts 2
// expect: slow 1 at 1970-01-01T00:00:00Z
// expect: slow 3 at 1970-01-01T00:00:01Z
// expect runtime error: gave up after 2 attempts: timed out after 500ms: call(slow, 2)

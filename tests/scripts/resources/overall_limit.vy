// `limit 2` with no key: at most two migrations at once, overall.
action migrate(n) limit 2 {
  print("start {n} at {now()}")
  delay(1s)
}
conc(map(range(0, 5), fn(n) { call(migrate, n) }))
// expect: start 0 at 1970-01-01T00:00:00Z
// expect: start 1 at 1970-01-01T00:00:00Z
// expect: start 2 at 1970-01-01T00:00:01Z
// expect: start 3 at 1970-01-01T00:00:01Z
// expect: start 4 at 1970-01-01T00:00:02Z

// `limit 1 per host`: one deploy per host at a time, in the order they
// were asked for; other hosts go on meanwhile. A deploy holds its host
// until what it returned (the delay and the call after it) has finished.
action deploy(host, n) limit 1 per host {
  print("start {host}{n} at {now()}")
  seq([delay(100ms), call(done, host, n)])
}
action done(host, n) { print("end {host}{n} at {now()}") }
conc([
  call(deploy, "a", 1),
  call(deploy, "b", 1),
  call(deploy, "a", 2),
  call(deploy, "a", 3),
  call(deploy, "b", 2),
])
// expect: start a1 at 1970-01-01T00:00:00Z
// expect: start b1 at 1970-01-01T00:00:00Z
// expect: end a1 at 1970-01-01T00:00:00.100Z
// expect: end b1 at 1970-01-01T00:00:00.100Z
// expect: start a2 at 1970-01-01T00:00:00.100Z
// expect: start b2 at 1970-01-01T00:00:00.100Z
// expect: end a2 at 1970-01-01T00:00:00.200Z
// expect: end b2 at 1970-01-01T00:00:00.200Z
// expect: start a3 at 1970-01-01T00:00:00.200Z
// expect: end a3 at 1970-01-01T00:00:00.300Z

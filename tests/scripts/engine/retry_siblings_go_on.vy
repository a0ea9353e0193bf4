// While a call waits for its retry, its siblings in a conc go on.
let tries = 0
action flaky() {
  tries = tries + 1
  if tries < 2 { retry("busy") }
  print("flaky done at {now()}")
}
action log(x) { print("{x} at {now()}") }
conc([call(flaky), seq([call(log, "s1"), call(log, "s2")])])
// expect: s1 at 1970-01-01T00:00:00Z
// expect: s2 at 1970-01-01T00:00:00Z
// expect: flaky done at 1970-01-01T00:00:00.100Z

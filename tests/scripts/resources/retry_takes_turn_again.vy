// A call that fails retryably gives its resource back; after its backoff
// it takes its turn again, behind the calls that waited meanwhile.
let tries = {}
action flaky(n) limit 1 {
  tries[str(n)] = get(tries, str(n), 0) + 1
  print("try {n} #{tries[str(n)]} at {now()}")
  if n == 1 and tries[str(n)] < 2 { retry("not yet") }
  delay(300ms)
}
conc([call(flaky, 1), call(flaky, 2), call(flaky, 3)])
// expect: try 1 #1 at 1970-01-01T00:00:00Z
// expect: try 2 #1 at 1970-01-01T00:00:00Z
// expect: try 3 #1 at 1970-01-01T00:00:00.300Z
// expect: try 1 #2 at 1970-01-01T00:00:00.600Z

// `rate 4/s`: starts spaced evenly, a quarter second apart.
action fetch(i) rate 4/s { print("fetch {i} at {now()}") }
conc(map(range(0, 6), fn(i) { call(fetch, i) }))
// expect: fetch 0 at 1970-01-01T00:00:00Z
// expect: fetch 1 at 1970-01-01T00:00:00.250Z
// expect: fetch 2 at 1970-01-01T00:00:00.500Z
// expect: fetch 3 at 1970-01-01T00:00:00.750Z
// expect: fetch 4 at 1970-01-01T00:00:01Z
// expect: fetch 5 at 1970-01-01T00:00:01.250Z

import passes
action fetch(url) { print("fetch {url}") }
interest "fetches" when call(fetch, _)
pass "fetches" (msgs) { passes.dedupe(msgs) }
conc([call(fetch, "a"), call(fetch, "b"), call(fetch, "a"), call(fetch, "c"), call(fetch, "b")])
// expect: fetch a
// expect: fetch b
// expect: fetch c

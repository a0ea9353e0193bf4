// Batching writes and deduping fetches: 10,000 `call(write, x)` become 10
// batched writes (a topic's pass runs as soon as it holds --batch messages,
// 1,024 by default, and once more for the rest), and 6 fetches of 3
// distinct URLs become 3.
import passes

let writes = 0
let fetches = 0

action write(row) {}
action write_many(rows) {
  writes += 1
  print("write batch {writes}: {len(rows)} rows, {rows[0]}..{rows[len(rows) - 1]}")
}
action fetch(url) {
  fetches += 1
  print("fetch {url}")
}
action report() { print("{writes} batched writes, {fetches} fetches") }

interest "writes" when call(write, _)
pass "writes" (msgs) { passes.batch(msgs, write_many) }

interest "fetches" when call(fetch, _)
pass "fetches" (msgs) { passes.dedupe(msgs) }

conc(map(range(0, 10000), fn(i) { call(write, i) }))
conc(map(["a", "b", "a", "c", "b", "a"], fn(u) { call(fetch, "https://example.test/{u}") }))
seq([delay(1s), call(report)])
// expect: write batch 1: 1024 rows, 0..1023
// expect: write batch 2: 1024 rows, 1024..2047
// expect: write batch 3: 1024 rows, 2048..3071
// expect: write batch 4: 1024 rows, 3072..4095
// expect: write batch 5: 1024 rows, 4096..5119
// expect: write batch 6: 1024 rows, 5120..6143
// expect: write batch 7: 1024 rows, 6144..7167
// expect: write batch 8: 1024 rows, 7168..8191
// expect: write batch 9: 1024 rows, 8192..9215
// expect: write batch 10: 784 rows, 9216..9999
// expect: fetch https://example.test/a
// expect: fetch https://example.test/b
// expect: fetch https://example.test/c
// expect: 10 batched writes, 3 fetches

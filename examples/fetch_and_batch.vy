// Fetch and batch: serve a few pages on a local HTTP server, fetch them
// (each URL once however often it is asked for), and store what came back
// in one batched write: the "stores" pass holds the rows back (`further`)
// until every page is in, however the fetches' timings fall. The report
// that follows the write comes out of the pass too: a `call(report)` after
// the `conc` of fetches in the top-level `seq` would nest the fetches, and
// interests see top-level messages only (the run would warn that no fetch
// and no store was routed).
// Run it: cargo run --release -- run examples/fetch_and_batch.vy
import passes

let dir = "/tmp/voyager-fetch-example"
let port = 8765
let base = "http://127.0.0.1:{port}"
let pages = ["a", "b", "c"]

action store(row) {}
action store_many(rows) { print("stored {len(rows)} pages in one write: {join(sort(rows), ", ")}") }
action fetch(page) { promise([call(http, "{base}/{page}.txt")], call(keep, page)) }
action report() { print("report: every page is stored") }
action keep(page, responses) { call(store, "{page}={trim(responses[0].body)}") }

interest "fetches" when call(fetch, _)
pass "fetches" (msgs) { passes.dedupe(msgs) }
interest "stores" when call(store, _)
pass "stores" (msgs) {
  if len(msgs) < len(pages) {
    {ready: [], further: msgs}
  } else {
    [seq(passes.batch(msgs, store_many) + [call(report)])]
  }
}

seq([
  // A throwaway server: python's, stopped by `timeout` after a few seconds.
  void(call(sh, "rm -rf {dir} && mkdir -p {dir} && for p in {join(pages, " ")}; do echo page-$p > {dir}/$p.txt; done")),
  // Any server left from an earlier run is stopped first; then wait until
  // the new one answers (python can take a while to start on a busy machine).
  void(call(sh, "kill $(cat {dir}.pid 2>/dev/null) 2>/dev/null; cd {dir} && (timeout 5 python3 -m http.server {port} --bind 127.0.0.1 >/dev/null 2>&1 & echo $! > {dir}.pid) && for i in $(seq 100); do python3 -c 'import urllib.request; urllib.request.urlopen(\"{base}/a.txt\")' 2>/dev/null && break; sleep 0.1; done")),
  conc(map(["a", "b", "a", "c", "b", "a"], fn(p) { call(fetch, p) })),
])
// expect: stored 3 pages in one write: a=page-a, b=page-b, c=page-c
// expect: report: every page is stored

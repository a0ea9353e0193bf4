action fetch(n) {
  print("fetch {n}")
  n
}
action done(values) { print("done {values}") }
promise([seq([call(fetch, 1), call(fetch, 2)]), call(fetch, 3)], done)
// expect: fetch 1
// expect: fetch 3
// expect: fetch 2
// expect: done [1, 3, 2]

// ensure(m, cleanup): cleanup runs after m, whether m finished or failed.
// A failure is still a dead letter once the cleanup has run.
action work(x) {
  if x == "bad" { fail("broken input") }
  print("worked on {x}")
}
action cleanup(x) { print("cleaned up after {x}") }
action after() { print("after") }
seq([ensure(call(work, "good"), call(cleanup, "good")), call(after)])
seq([ensure(call(work, "bad"), call(cleanup, "bad")), call(after)])
// expect: worked on good
// expect: cleaned up after good
// expect: cleaned up after bad
// expect: after
// expect runtime error: broken input
// stderr: ensure

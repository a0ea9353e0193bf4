// exit(n) as the last thing ends quietly with status n; dead letters
// still make the status at least 1, and exit(0) cannot hide them.
action work() { print("work") }
action report() { exit(0) }
action broken() { fail("broken") }
seq([call(work), call(report)])
call(broken)
// expect: work
// expect runtime error: broken

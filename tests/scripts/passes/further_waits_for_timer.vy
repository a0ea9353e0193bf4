// A pass that holds its messages back (a gate) is not stuck while
// something else can still make progress: here a timer is pending, and
// the action it leads to opens the gate.
let gate = false
action job(x) { print("job {x}") }
action open() {
  print("open")
  gate = true
}
interest "jobs" when call(job, _)
pass "jobs" (msgs) { if gate { msgs } else { {ready: [], further: msgs} } }
call(job, 1)
seq([delay(5s), call(open)])
// expect: open
// expect: job 1

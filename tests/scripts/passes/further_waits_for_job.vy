// A pass that holds its messages back is not stuck while a shell job is
// still running: the job's action opens the gate when it finishes (2.5 s,
// longer than a hundred quick rounds of the pass would take).
let gate = false
action job(x) { print("job {x}") }
action opened(out) {
  print("open")
  gate = true
}
interest "jobs" when call(job, _)
pass "jobs" (msgs) { if gate { msgs } else { {ready: [], further: msgs} } }
call(job, 1)
promise([call(sh, "sleep 2.5")], opened)
// expect: open
// expect: job 1

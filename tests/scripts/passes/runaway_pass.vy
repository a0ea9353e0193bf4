// args: --max-steps 1000
// A pass that doubles its batch every round is stopped by --max-steps:
// pass runs and the messages they return count as steps, and the report
// names the pass.
action job(x) {}
interest "jobs" when call(job, _)
pass "jobs" (msgs) { {ready: [], further: msgs + msgs} }
call(job, 1)
// expect runtime error: E0304
// stderr: pass "jobs" ran

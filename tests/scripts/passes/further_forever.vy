action job(x) {}
interest "jobs" when call(job, _)
pass "jobs" (msgs) { {ready: [], further: msgs} }
call(job, 1)
// expect runtime error: E0305
// expect runtime error: returned everything as `further`

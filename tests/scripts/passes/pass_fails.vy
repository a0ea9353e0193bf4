action job(x) {}
interest "jobs" when call(job, _)
pass "jobs" (msgs) { fail("pass broke") }
conc([call(job, 1), call(job, 2)])
// expect runtime error: pass "jobs" failed: pass broke
// expect runtime error: 2 dead letter(s)

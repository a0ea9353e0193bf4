action job(x) {}
interest "jobs" when call(job, _)
pass "jobs" (msgs) { {ready: [1]} }
call(job, 1)
// expect runtime error: E0302
// expect runtime error: a pass returned int `1` where a message belongs

// command: check
pass "orphans" (msgs) { msgs }
// stderr: W0001
// stderr: No interest or observe feeds topic "orphans"
// exit: 0

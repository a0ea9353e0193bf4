// A limited action whose result calls it again on the same key waits for
// itself: the run does not hang, the waiting item is a dead letter.
action walk(n) limit 1 { if n > 0 { call(walk, n - 1) } }
call(walk, 2)
// expect runtime error: E0312
// stderr: waits for a resource that nothing will free: call(walk, 1)

// args: --max-steps 500 --batch 1
// Two passes that hand a message back and forth never finish; --max-steps
// stops them (and the engine does not recurse into one pass from another).
action a(x) {}
action b(x) {}
interest "as" when call(a, _)
interest "bs" when call(b, _)
pass "as" (msgs) { map(msgs, fn(m) { call(b, m.args[0]) }) }
pass "bs" (msgs) { map(msgs, fn(m) { call(a, m.args[0]) }) }
call(a, 1)
// expect runtime error: E0304
// stderr: ran

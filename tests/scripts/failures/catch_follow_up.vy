// What an action inside catch returns stays inside it: a follow-up call
// that fails is caught too. A conc sibling left running is given up.
action start() { [call(step, 1), call(step, 2)] }
action step(n) {
  if n == 2 { fail("step {n} broke") }
  print("step {n}")
}
action recover(err) { print("recovered: {err.message}") }
catch(call(start), recover)
catch(conc([delay(1s), call(step, 2)]), recover)
// expect: step 1
// expect: recovered: step 2 broke
// expect: recovered: step 2 broke
// exit: 0

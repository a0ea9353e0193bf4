// catch around ensure: the cleanup runs first, then the handler.
action work() { fail("no luck") }
action cleanup() { print("cleanup") }
action handle(err) { print("handled: {err.message} in {err.call}") }
catch(ensure(call(work), call(cleanup)), handle)
// expect: cleanup
// expect: handled: no luck in call(work)
// exit: 0

// A plain run does its work and ends: schedules do not fire, and it says so.
schedule tick every 1h { print("tick") }
print("done")
// expect: done
// stderr: note: 1 schedule(s) (`tick`) do not fire in a plain run

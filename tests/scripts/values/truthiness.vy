print(not nil)                      // expect: true
print(not false)                    // expect: true
print(not 0)                        // expect: false
print(not "")                       // expect: false
print(not [])                       // expect: false
print(nil or "x")                   // expect: x
print(0 and "y")                    // expect: y
print(false and boom_never_runs())  // expect: false
fn boom_never_runs() { fail("evaluated") }
print(1 or boom_never_runs())  // expect: 1

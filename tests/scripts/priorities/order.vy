// `priority n` on an action: of the ready items, calls of a higher
// priority step first (the default is 0; lower may be negative), and
// items of one priority step first-in first-out.
action work(name) { print(name) }
action urgent(name) priority 10 { print("urgent {name}") }
action later(name) priority -5 { print("later {name}") }
conc([
  call(work, "a"),
  call(later, "x"),
  call(work, "b"),
  call(urgent, "1"),
  call(later, "y"),
  call(urgent, "2"),
  call(work, "c"),
])
// expect: urgent 1
// expect: urgent 2
// expect: a
// expect: b
// expect: c
// expect: later x
// expect: later y

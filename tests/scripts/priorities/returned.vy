// What a top-level call of a priority action returns steps at its
// priority too. A `seq` steps at the priority of the call at its head;
// what is left of it after that call (with what the call returned, which
// the rest of the seq waits for) steps at the seq's own priority (0).
action work(name) { print(name) }
action urgent(name) priority 5 {
  print("urgent {name}")
  conc([call(work, "{name}.1"), call(work, "{name}.2")])
}
conc([
  call(work, "a"),
  seq([call(work, "s1"), call(urgent, "s2"), call(work, "s3")]),
  call(work, "b"),
  call(urgent, "u"),
  call(work, "c"),
])
// expect: urgent u
// expect: u.1
// expect: u.2
// expect: a
// expect: s1
// expect: urgent s2
// expect: b
// expect: c
// expect: s2.1
// expect: s2.2
// expect: s3

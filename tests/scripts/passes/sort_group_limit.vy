import passes
action job(spec) { print("job {spec.name} (priority {spec.p})") }
action insert(row) {}
action insert_rows(table, rows) { print("insert into {table}: {rows}") }
action tick(i) { print("tick {i}") }
interest "jobs" when call(job, _)
pass "jobs" (msgs) { passes.sort_by(msgs, fn(m) { m.args[0].p }) }
interest "rows" when call(insert, _)
pass "rows" (msgs) { passes.group_by(msgs, fn(m) { m.args[0].table }, insert_rows) }
conc([
  call(job, {name: "c", p: 3}),
  call(job, {name: "a", p: 1}),
  call(job, {name: "b", p: 2}),
  call(job, {name: "a2", p: 1}),
])
conc([
  call(insert, {table: "users", id: 1}),
  call(insert, {table: "orders", id: 7}),
  call(insert, {table: "users", id: 2}),
])
// Idle passes run in declaration order: "jobs", then "rows".
// expect: job a (priority 1)
// expect: job a2 (priority 1)
// expect: job b (priority 2)
// expect: job c (priority 3)
// expect: insert into users: [{table: "users", id: 1}, {table: "users", id: 2}]
// expect: insert into orders: [{table: "orders", id: 7}]

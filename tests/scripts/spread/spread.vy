// `..xs` spreads a list's items into a call's arguments, anywhere among them.
fn add3(a, b, c) { a + b + c }
let xs = [1, 2, 3]
print(add3(..xs))
// expect: 6
print(add3(10, ..[20, 30]))
// expect: 60
print(add3(..[1], 2, ..[3]))
// expect: 6
print(max(..[4, 9]))
// expect: 9
print(str(..["x"]))
// expect: x
action deploy(host, env, force) { print("deploy {host} to {env} (force: {force})") }
let rest = ["prod", true]
call(deploy, "web-1", ..rest)
// expect: deploy web-1 to prod (force: true)
let hosts = [["web-2", "dev", false]]
conc(map(hosts, fn(h) { call(deploy, ..h) }))
// expect: deploy web-2 to dev (force: false)

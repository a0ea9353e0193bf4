// A deploy whose follow-up fails gives its host back before the cleanup
// runs, so a cleanup on the same host can take it.
action deploy(host) limit 1 per host { call(check, host) }
action check(host) { fail("{host} is unhealthy") }
action rollback(host) limit 1 per host { print("rollback {host}") }
ensure(call(deploy, "web"), call(rollback, "web"))
// expect: rollback web
// expect runtime error: web is unhealthy

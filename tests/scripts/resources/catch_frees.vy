// A failure a catch takes gives back the resource the failed part held,
// so the handler can deploy to the same host again.
action deploy(host, ok) limit 1 per host {
  if ok { print("deployed {host}") } else { call(check, host) }
}
action check(host) { fail("{host} is unhealthy") }
action redeploy(host, err) { call(deploy, host, true) }
catch(call(deploy, "web", false), call(redeploy, "web"))
// expect: deployed web

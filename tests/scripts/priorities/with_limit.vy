// A priority combines with a resource clause: calls waiting for their
// turn keep first-in first-out order on the resource, and a call whose
// turn comes steps before plain work.
action work(name) { print(name) }
action deploy(host, n) limit 1 per host priority 3 {
  print("deploy {host}{n}")
  seq([delay(10ms), call(work, "{host}{n} done")])
}
conc([
  call(work, "a"),
  call(deploy, "h", 1),
  call(deploy, "h", 2),
  call(work, "b"),
])
// expect: deploy h1
// expect: a
// expect: b
// expect: h1 done
// expect: deploy h2
// expect: h2 done

// catch(m, handler): if m ends as a dead letter, the handler runs with the
// error instead ({code, message, call, attempts}), and the item goes on
// with what the handler yields. Nothing is lost: the run exits 0.
// args: --stats
action deploy(host) {
  if host == "b" { fail("disk full on {host}") }
  print("deployed {host}")
  host
}
action rollback(host, err) {
  print("rolling back {host}: {err.code} {err.message} in {err.call} after {err.attempts}")
  "rolled back {host}"
}
action report(x) { print("then: {x}") }
seq([catch(call(deploy, "a"), call(rollback, "a")), call(report, "after a")])
seq([catch(call(deploy, "b"), call(rollback, "b")), call(report, "after b")])
// The handler's results go on in place of the failed message.
promise([catch(call(deploy, "b"), call(rollback, "b"))], report)
// expect: deployed a
// expect: then: after a
// expect: rolling back b: E0300 disk full on b in call(deploy, "b") after 1
// expect: rolling back b: E0300 disk full on b in call(deploy, "b") after 1
// expect: then: after b
// expect: then: ["rolled back b"]
// stderr: note: 2 failure(s) recovered by a catch handler (not dead letters)
// stderr: recovered:      2
// stderr: dead letters:   0
// exit: 0

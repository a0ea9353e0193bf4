// exit(n) in an action ends that action at once and the run after the
// step: queued work does not run, and is listed as unfinished.
action stop(n) {
  print("stopping")
  exit(n)
  print("never")
}
action later() { print("later") }
call(stop, 4)
call(later)
// expect: stopping
// stderr: E0310
// stderr: exit(4) ended the run; 1 item(s) left unfinished:
// stderr: call(later)
// exit: 4

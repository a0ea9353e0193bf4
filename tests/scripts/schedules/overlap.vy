// A firing whose work outlasts the interval: with `overlap skip` (the
// default) the next firing is skipped while it runs; with `overlap allow`
// it runs anyway. Each firing's work takes 90 minutes here.
// args: --for 4h --stats
schedule slow every 1h {
  seq([call(log, "slow starts"), delay(90m), call(log, "slow ends")])
}
schedule busy every 1h overlap allow {
  seq([call(log, "busy starts"), delay(90m), call(log, "busy ends")])
}
action log(what) { print("{format_time(now(), "%H:%M")} {what}") }
// expect: 01:00 slow starts
// expect: 01:00 busy starts
// expect: 02:00 busy starts
// expect: 02:30 slow ends
// expect: 02:30 busy ends
// expect: 03:00 slow starts
// expect: 03:00 busy starts
// expect: 03:30 busy ends
// expect: 04:00 busy starts
// expect: 04:30 slow ends
// expect: 04:30 busy ends
// expect: 05:30 busy ends
// stderr: schedules:      6 fired, 2 skipped

// A trip booking saga, in the style of Temporal's saga sample: book a car,
// a hotel and a flight, in order. A booking that keeps failing is retried
// by its own policy; when one fails for good, the bookings already made are
// undone, newest first, and the trip is reported as cancelled. A scratch
// folder holds the booking log and is removed whatever happens.
//   voyager run examples/saga.vy -- T-100
//   voyager run examples/saga.vy -- T-100 --fail flight
// params: T-100 --fail flight

let trip = param("trip")
let failing = flag("fail", "none")
let scratch = "/tmp/voyager-saga-{uuid()}"
// The compensations of the bookings made so far, in order.
let undo = []

action book(kind) {
  if kind == failing { retry("no {kind} available for {trip}") }
  push(undo, call(cancel, kind))
  print("booked {kind}")
  seq([call(append_file, "{scratch}/log.txt", "booked {kind}\n"), data("{kind}-{trip}")])
}

action cancel(kind) {
  print("cancelled {kind}")
  call(append_file, "{scratch}/log.txt", "cancelled {kind}\n")
}

// then: the bookings' confirmations, once all three are made.
action confirm(ids) { print("trip {trip} booked: {join(ids, ", ")}") }

// catch: the error of the booking that failed for good.
action compensate(err) {
  print("{err.call} failed after {err.attempts} attempts: {err.message}")
  seq(reverse(undo) + [call(cancelled)])
}

action cancelled() { print("trip {trip} cancelled") }

action show_log(text) { print("log: {join(split(trim(text), "\n"), "; ")}") }

let bookings = seq([call(book, "car"), call(book, "hotel"), call(book, "flight")])

ensure(
  seq([
    call(make_dir, scratch),
    catch(then(retrying(bookings, {attempts: 3, backoff: 1s}), confirm), compensate),
    then(call(read_file, "{scratch}/log.txt"), show_log),
  ]),
  seq([call(remove_dir, scratch), call(print_removed)]),
)

action print_removed() { print("scratch folder removed") }
// expect: booked car
// expect: booked hotel
// expect: call(book, "flight") failed after 3 attempts: gave up after 3 attempts: no flight available for T-100
// expect: cancelled hotel
// expect: cancelled car
// expect: trip T-100 cancelled
// expect: log: booked car; booked hotel; cancelled hotel; cancelled car
// expect: scratch folder removed

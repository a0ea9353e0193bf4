// args: --max-memory 64MiB
// Growing a value past --max-memory is a runtime error with a code, not an
// abort: the item becomes a dead letter and the rest of the run goes on.
action grow() {
  let s = "x"
  while true { s = s + s }
}
action grow_list() {
  let xs = [1]
  while true { xs = xs + xs }
}
action big_range() { len(range(0, 50000000)) }
// Interpolation builds its string without a `+`: the limit holds there too.
action grow_interpolated() {
  let s = "ab"
  while true { s = "{s}{s}" }
}
action ok() { print("the rest goes on") }
conc([call(grow), call(grow_list), call(big_range), call(grow_interpolated), call(ok)])
// expect: the rest goes on
// expect runtime error: E0211
// stderr: out of memory: the program would use more than the limit of 64 MiB
// stderr: 4 dead letter(s)

// void runs its message and discards the data it yields.
action value(x) {
  print("ran {x}")
  x
}
action collect(xs) { print(xs) }
promise([void(call(value, 1)), call(value, 2)], collect)
// expect: ran 1
// expect: ran 2
// expect: [2]

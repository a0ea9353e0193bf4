// Top-level data that no interest takes is dropped and counted.
action value(x) { x }
data(1)
call(value, 2)
seq([data(3), data(4)])
// stderr: note: 4 unclaimed data message(s) dropped

// Top-level messages are enqueued in order once the top level has run;
// other values are discarded.
action log(x) { print(x) }
call(log, 1)
42
call(log, 2)
print("top level first")
// expect: top level first
// expect: 1
// expect: 2

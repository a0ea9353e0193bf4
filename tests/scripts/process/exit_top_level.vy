// exit(n) in the top level ends the run there: nothing it made is enqueued.
action never() { print("never") }
print("before")
// expect: before
call(never)
exit(3)
print("after")
// stderr: exit(3) ended the run in its top level
// exit: 3

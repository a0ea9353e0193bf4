// eprint writes to standard error; uuid() makes a random version-4 UUID.
eprint("to stderr")
// stderr: to stderr
print("to stdout")
// expect: to stdout
let u = uuid()
print(len(u))
// expect: 36
print(slice(u, 14, 15))
// expect: 4
print(contains("89ab", slice(u, 19, 20)))
// expect: true
print(u == uuid())
// expect: false

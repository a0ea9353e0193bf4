// The virtual clock starts at the Unix epoch.
let t = now()
print(t)             // expect: 1970-01-01T00:00:00Z
print(t + 90s)       // expect: 1970-01-01T00:01:30Z
print((t + 2h) - t)  // expect: 2h
print(t + 1500ms)    // expect: 1970-01-01T00:00:01.500Z
print(type_of(t))    // expect: time
print(type_of(1s))   // expect: duration

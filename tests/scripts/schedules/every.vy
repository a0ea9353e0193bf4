// A schedule fires every interval while the run keeps going for it:
// --for 3h fires it for three hours of (virtual) clock time, then the run
// finishes the work it started and ends.
// args: --for 3h
schedule tick every 1h {
  print("tick at {now()}")
}
print("top level")
// expect: top level
// expect: tick at 1970-01-01T01:00:00Z
// expect: tick at 1970-01-01T02:00:00Z
// expect: tick at 1970-01-01T03:00:00Z

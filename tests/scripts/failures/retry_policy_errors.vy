// A policy that is not one is an error where it is built.
retrying(noop, {tries: 3})
// expect runtime error: E0311
// expect runtime error: a retry policy has no `tries`

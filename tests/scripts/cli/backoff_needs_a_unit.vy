// Durations on the command line take the language's units; a bare number
// could mean any of them.
// args: --backoff 5
// exit: 2
// stderr: `5` has no unit (write 5ms, 5s, 5m or 5h)
print("never")

// A required parameter that is not given stops the run before anything
// runs (not even the top level), with the usage line; exit status 2.
// params:
print("the top level does not start")
let target = param("env")
let force = flag("force", false)
let replicas = flag("replicas", 1)
// stderr: E0309
// stderr: parameter <env> is required
// stderr: usage: voyager run
// stderr: -- <env> [--force] [--replicas VALUE]
// exit: 2

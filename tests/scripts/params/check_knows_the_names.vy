// `voyager check FILE -- words` checks the words without running anything.
// command: check
// params: prod --replicas=x
let target = param("env")
let replicas = flag("replicas", 1)
// stderr: --replicas is `x`, but it must be an int
// exit: 2

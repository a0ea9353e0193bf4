// A word that does not convert to its default's type is caught up front.
// params: prod --replicas three
let target = param("env")
let replicas = flag("replicas", 1)
print("never")
// stderr: E0309
// stderr: --replicas is `three`, but it must be an int
// exit: 2

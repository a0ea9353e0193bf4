// A flag the script never reads is a typo until proven otherwise.
// params: prod --forse
let target = param("env")
let force = flag("force", false)
print("never")
// stderr: E0309
// stderr: the script reads no flag --forse
// stderr: did you mean --force?
// exit: 2

// params: --tag
let tag = flag("tag", "latest")
// stderr: --tag needs a value after it
// exit: 2

// Names are checked when the script is: literal, one kind each, and
// required params before optional ones.
let name = "env"
let a = param(name)
let b = flag("force", false)
let c = flag("force", "yes")
let d = param("region", "eu")
let e = param("zone")
let f = flag("--x", 1)
let g = flag("list", [1])
// error: E0120
// error: the name `param` reads must be a string literal
// error: `force` is read as a flag that takes a value here, but as a switch flag (bool default) before
// error: the required param <zone> comes after <region>, which has a default
// error: `--x` cannot name a flag that takes a value
// error: `list` cannot default to a list

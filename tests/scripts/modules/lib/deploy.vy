// Imported by ../imports.vy as the namespace `deploy` (also run alone by
// the golden harness: it prints nothing at the top level).
import "helpers.vy"

let default_env = "staging"

action host(name, env) { print("deploy {helpers.shout(name)} to {env}") }

fn all(names, env) { map(names, fn(n) { call(host, n, env) }) }

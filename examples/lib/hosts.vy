// Shared by examples/release.vy (import "lib/hosts.vy"): which hosts of a
// manifest belong to an environment.
fn for_env(manifest, env) { filter(manifest.hosts, fn(h) { h.env == env }) }

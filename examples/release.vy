// A release, driven by its parameters and a JSON manifest:
//   voyager run examples/release.vy -- staging
//   voyager run examples/release.vy -- prod --manifest other.json
//   voyager run examples/release.vy -- --help
// Deploys to every host of the environment at once (each a command, not
// retried), rolls back a host whose deploy fails instead of giving up on
// the release, logs each deploy to a scratch folder, reports, and removes
// the folder whatever happened.
// params: prod
import "lib/hosts.vy"

let target = param("env")
let manifest_path = flag("manifest", "examples/release.json")
let scratch = "/tmp/voyager-release-{uuid()}"

action release(texts) {
  let manifest = json_decode(texts[0])
  let targets = hosts.for_env(manifest, target)
  if len(targets) == 0 {
    eprint("no hosts for {target} in {manifest_path}")
    exit(3)
  }
  let built = format_time(parse_time(manifest.built), "%d %b %Y")
  print("release {manifest.version} (built {built}) to {len(targets)} host(s) in {target}")
  ensure(seq([
    call(make_dir, scratch),
    promise(map(targets, fn(h) { deploy_or_roll_back(h, manifest.version) }), report),
    promise([call(read_file, "{scratch}/log.txt")], show_log),
  ]), call(remove_dir, scratch))
}

// A failed deploy is not retried (1 attempt in all); the host is rolled
// back instead, and the release goes on.
fn deploy_or_roll_back(h, version) {
  catch(retrying(call(deploy, h.name, version, get(h, "disk_full", false)), 1), call(roll_back, h.name))
}

action deploy(host, version, disk_full) {
  seq([
    call(append_file, "{scratch}/log.txt", "{host} {version}\n"),
    call(sh, if disk_full { "echo {host}: disk full >&2; exit 1" } else { "echo {host}: ok" }),
  ])
}

action roll_back(host, err) {
  seq([
    call(append_file, "{scratch}/log.txt", "{host} rolled back\n"),
    call(sh, "echo '{host}: rolled back ({err.code})'"),
  ])
}

action report(results) {
  for line in sort(map(results, fn(r) { trim(r.stdout) })) { print("  {line}") }
}

action show_log(texts) {
  let lines = filter(split(texts[0], "\n"), fn(l) { l != "" })
  print("log: {len(lines)} line(s); {pad_start(format_number(len(texts[0]), {thousands: ","}), 5)} bytes")
}

promise([call(read_file, manifest_path)], release)
// expect: release 2.4.0 (built 01 Dec 2026) to 2 host(s) in prod
// expect:   web-3: ok
// expect:   web-4: rolled back (E0307)
// expect: log: 3 line(s);    42 bytes

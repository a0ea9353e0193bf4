// A release, driven by its parameters and a JSON manifest:
//   voyager run examples/release.vy -- staging
//   voyager run examples/release.vy -- prod --manifest other.json
//   voyager run examples/release.vy -- --help
// Deploys to every host of the environment at once (each a command), logs
// each deploy to a scratch folder, reports, and removes the folder.
// params: staging
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
  seq([
    call(make_dir, scratch),
    promise(map(targets, fn(h) { call(deploy, h.name, manifest.version) }), report),
    promise([call(read_file, "{scratch}/log.txt")], show_log),
    call(remove_dir, scratch),
  ])
}

action deploy(host, version) {
  seq([
    call(append_file, "{scratch}/log.txt", "{host} {version}\n"),
    call(sh, "echo {host}: ok"),
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

// The words after `--`: a param takes the next positional word, a flag
// `--name VALUE` (or `--name` alone when its default is a bool), and each
// word converts to its default's type. A lone `--` ends the flags.
// params: prod --force --replicas 3 --wait=90s extra -- --not-a-flag
// env: VOYAGER_TEST_REGION=eu-west
// env: VOYAGER_TEST_PORT=8080
let target = param("env")
let force = flag("force", false)
let replicas = flag("replicas", 1)
let wait = flag("wait", 30s)
let tag = flag("tag", "latest")
let dry = flag("dry-run", false)
print("{target} {force} {replicas} {wait} {tag} {dry}")
// expect: prod true 3 90s latest false
print(type_of(replicas))
// expect: int
print(args())
// expect: ["prod", "extra", "--not-a-flag"]
print(env("VOYAGER_TEST_REGION"))
// expect: eu-west
print(env("VOYAGER_TEST_PORT", 80) + 1)
// expect: 8081
print(env("VOYAGER_TEST_SURELY_UNSET", "none"))
// expect: none

// Actions read them too.
action deploy(host) { print("{host}: {param("env")} x{flag("replicas", 1)}") }
call(deploy, "web-1")
// expect: web-1: prod x3

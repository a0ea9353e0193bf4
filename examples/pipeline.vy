// A build pipeline with real commands: prepare a work folder, then build
// and test side by side, then summarise what the checks printed.
// Run it: cargo run --release -- run examples/pipeline.vy
let dir = "/tmp/voyager-pipeline"

// The checks run at once and finish in any order: sort what they said.
action summarise(results) {
  for line in sort(map(results, fn(r) { trim(r.stdout) })) { print("  {line}") }
  print("pipeline done: {len(results)} checks passed")
}

// void(...) drops the {code, stdout, stderr} data of steps whose output
// we do not need (it would otherwise be counted as unclaimed).
seq([
  void(call(sh, "rm -rf {dir} && mkdir -p {dir}")),
  call(write_file, "{dir}/main.c", "int main(void) \{ return 0; \}\n"),
  void(conc([
    call(sh, "cd {dir} && sleep 0.2 && echo 'compiled main.c'"),
    call(sh, "sleep 0.2 && echo 'linted 1 file'"),
  ])),
  promise([
    call(sh, "test -f {dir}/main.c && echo 'unit: main.c exists'"),
    call(sh, "echo 'e2e: ok'"),
  ], summarise),
])
// expect:   e2e: ok
// expect:   unit: main.c exists
// expect: pipeline done: 2 checks passed

// The file operations are native jobs, like read_file: each yields data.
let dir = "/tmp/voyager-files-test-{uuid()}"
action show(label, results) { print("{label}: {results[0]}") }
action relative(results) { print(map(results[0], fn(p) { replace(p, dir, "") })) }
seq([
  call(make_dir, "{dir}/sub/deeper"),
  call(write_file, "{dir}/a.txt", "one\n"),
  call(append_file, "{dir}/a.txt", "two\n"),
  call(append_file, "{dir}/b.log", "new\n"),
  call(write_file, "{dir}/sub/c.txt", ""),
  promise([call(read_file, "{dir}/a.txt")], call(show, "a.txt")),
  promise([call(read_file, "{dir}/b.log")], call(show, "b.log")),
  promise([call(list_dir, dir)], call(show, "list")),
  promise([call(glob, "{dir}/*.txt")], relative),
  promise([call(glob, "{dir}/**/*.txt")], relative),
  promise([call(path_exists, "{dir}/a.txt")], call(show, "exists")),
  promise([call(path_exists, "{dir}/nope")], call(show, "nope exists")),
  call(remove_file, "{dir}/a.txt"),
  promise([call(path_exists, "{dir}/a.txt")], call(show, "after remove_file")),
  call(remove_dir, dir),
  promise([call(path_exists, dir)], call(show, "after remove_dir")),
])
// expect: a.txt: one
// expect: two
// expect:
// expect: b.log: new
// expect:
// expect: list: ["a.txt", "b.log", "sub"]
// expect: ["/a.txt"]
// expect: ["/a.txt", "/sub/c.txt"]
// expect: exists: true
// expect: nope exists: false
// expect: after remove_file: false
// expect: after remove_dir: false

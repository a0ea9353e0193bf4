// A missing path is fatal at once (attempts: 1), like read_file's.
let dir = "/tmp/voyager-files-missing-{uuid()}"
call(remove_file, "{dir}/x")
call(list_dir, dir)
call(glob, "[")
call(remove_dir, "/")
call(append_file, "{dir}/y/z", "x")
// expect runtime error: E0307
// expect runtime error: cannot remove /tmp/voyager-files-missing-
// expect runtime error: cannot list /tmp/voyager-files-missing-
// expect runtime error: glob: `[` is not a pattern
// expect runtime error: remove_dir refuses `/`: name the folder to remove
// expect runtime error: cannot append to /tmp/voyager-files-missing-
// stderr: No such file or directory
// stderr: (attempts: 1)

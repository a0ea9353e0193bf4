// Without `--` words, defaults hold and args() is empty.
print(flag("tag", "latest"))
// expect: latest
print(args())
// expect: []
print(param("region", "eu"))
// expect: eu

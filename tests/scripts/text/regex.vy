// Regular expressions on the regex crate. A triple-quoted string is raw
// and holds a pattern as it is; in an ordinary one a backslash is written
// `\\` and a brace `\{`: "\\d\{3\}" is the pattern \d{3}.
print(regex_match("v1.22", """^v\d+\.\d{2}$"""))
// expect: true
print(regex_match("x\{3\}", "^x\\\{3\\\}$"))
// expect: true
print(regex_match("deploy-42", "^deploy-\\d+$"))
// expect: true
print(regex_match("deploy-x", "^deploy-\\d+$"))
// expect: false
let m = regex_find("tag v1.22.3-rc here", "v(\\d+)\\.(\\d+)\\.(?P<patch>\\d+)(-\\w+)?")
print(m)
// expect: {text: "v1.22.3-rc", start: 4, end: 14, groups: ["1", "22", "3", "-rc"], named: {patch: "3"}}
print(regex_find("abc", "x"))
// expect: nil
print(regex_find("b", "(x)?b").groups)
// expect: [nil]
print(map(regex_find_all("a1 bb22 ccc333", "[a-z]+(\\d+)"), fn(m) { m.groups[0] }))
// expect: ["1", "22", "333"]
print(regex_find_all("none here", "\\d"))
// expect: []
// Positions count characters, as indexing does.
let w = regex_find_all("héllo wörld wé", "w\\S+")
print(map(w, fn(m) { [m.start, m.end, slice("héllo wörld wé", m.start, m.end)] }))
// expect: [[6, 11, "wörld"], [12, 14, "wé"]]
print(regex_replace("2024-01-15", "(\\d+)-(\\d+)-(\\d+)", "$3/$2/$1"))
// expect: 15/01/2024
print(regex_replace("a-b", "(?P<x>\\w)", "[$\{x\}]"))
// expect: [a]-[b]
print(regex_split("a, b;c", "[,;]\\s*"))
// expect: ["a", "b", "c"]
print(regex_match("ABC", "(?i)abc"))
// expect: true

// Record keys are strings: a literal's keys are names or string literals,
// and a key of another type is a type error, never dropped.
action string_keys() {
  let r = {a: 1, "b c": 2}
  r["d"] = 3
  print(r)
  print(keys(r))
}
action int_key() {
  let r = {a: 1}
  r[1] = 2
}
call(string_keys)
// expect: {a: 1, "b c": 2, d: 3}
// expect: ["a", "b c", "d"]
call(int_key)
// expect runtime error: cannot set index int `1` of record

// json_decode: objects become records (in their order), integers ints,
// other numbers floats, null nil.
let text = "\{\"name\": \"web\", \"hosts\": [\"a\", \"b\"], \"port\": 8080, \"ratio\": 0.5, \"big\": 1e300, \"on\": true, \"note\": null\}"
let v = json_decode(text)
print(v)
// expect: {name: "web", hosts: ["a", "b"], port: 8080, ratio: 0.5, big: 1e300, on: true, note: nil}
print(type_of(v.port))
// expect: int
print(v.hosts[1])
// expect: b
print(json_decode("2.0") + 1)
// expect: 3.0
print(json_decode("18446744073709551615"))
// expect: 1.8446744073709552e19

// json_encode: compact, or indented with a true second argument.
print(json_encode({a: 1, b: [1.5, "x\n\"y\"", nil, true], c: {}}))
// expect: {"a":1,"b":[1.5,"x\n\"y\"",null,true],"c":{}}
print(json_encode([1.0, -0.25, 1e16]))
// expect: [1.0,-0.25,1e+16]
print(json_encode({k: [1, 2]}, true))
// expect: {
// expect:   "k": [
// expect:     1,
// expect:     2
// expect:   ]
// expect: }
print(json_decode(json_encode(v)) == v)
// expect: true
print(json_encode("ünï"))
// expect: "ünï"

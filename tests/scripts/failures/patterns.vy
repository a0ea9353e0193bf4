// The new constructors are message patterns and have accessors.
action a(x) { x }
action h(e) { e }
let m = catch(call(a, 1), h)
print(m)
print(m.op)
print(m.inner)
print(m.handler)
print(match m { catch(call(a, x), handler) => "catch of a {x} by {handler}", _ => "no" })
print(match ensure(call(a, 1), call(a, 2)) { ensure(_, cleanup) => "cleanup {cleanup}", _ => "no" })
print(then(call(a, 1), h).next)
print(retrying(call(a, 1), 3).policy)
print(retrying(call(a, 1), {attempts: 2, backoff: 1s, on: ["e0307"]}))
// expect: catch(call(a, 1), h)
// expect: catch
// expect: call(a, 1)
// expect: h
// expect: catch of a 1 by h
// expect: cleanup call(a, 2)
// expect: h
// expect: {attempts: 3}
// expect: retrying(call(a, 1), {attempts: 2, backoff: 1s, on: ["E0307"]})

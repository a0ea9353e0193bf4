print([1, [2, 3]] == [1, [2, 3]])    // expect: true
print({a: 1, b: 2} == {b: 2, a: 1})  // expect: true
print({a: 1} == {a: 2})              // expect: false
print(1 == 1.0)                      // expect: true
print("1" == 1)                      // expect: false
action a(x) {}
print(call(a, 1) == call(a, 1))                // expect: true
print(seq([call(a, 1)]) == seq([call(a, 2)]))  // expect: false
fn f() { 1 }
let g = f
print(f == g)                    // expect: true
print(fn() { 1 } == fn() { 1 })  // expect: false

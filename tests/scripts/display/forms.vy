print([1, "a", {k: 2.5}])           // expect: [1, "a", {k: 2.5}]
print("top-level strings are raw")  // expect: top-level strings are raw
print({"two words": 1, ok: nil})    // expect: {"two words": 1, ok: nil}
print(1500ms)                       // expect: 1500ms
print(2000ms)                       // expect: 2s
print(120s)                         // expect: 2m
print(0ms)                          // expect: 0ms
print(3.0)                          // expect: 3.0
print([true, nil, 1.25])            // expect: [true, nil, 1.25]
action greet(who) {}
print(greet)  // expect: greet
fn sq(x) { x * x }
print(sq)                                  // expect: <fn sq>
print(print)                               // expect: <fn print>
print(seq([call(greet, "A"), data(1)]))    // expect: seq([call(greet, "A"), data(1)])
print(noop)                                // expect: noop
print(delay(2s))                           // expect: delay(2s)
print(void(data([1])))                     // expect: void(data([1]))
print(promise([call(greet, "x")], greet))  // expect: promise([call(greet, "x")], greet)
print(str(12) + "!")                       // expect: 12!

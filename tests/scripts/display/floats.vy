// Floats print in the shortest form that reads back as the same number,
// never looking like an int, and in exponent form outside 1e-4 .. 1e16.
print(1.0)                      // expect: 1.0
print(-0.0)                     // expect: -0.0
print(0.1 + 0.2)                // expect: 0.30000000000000004
print(2.5e3)                    // expect: 2500.0
print(1e15)                     // expect: 1000000000000000.0
print(1e16)                     // expect: 1e16
print(-1e16)                    // expect: -1e16
print(1e300)                    // expect: 1e300
print(1.5e-7)                   // expect: 1.5e-7
print(1e-7)                     // expect: 1e-7
print(0.0001)                   // expect: 0.0001
print(0.00001)                  // expect: 1e-5
print(123456789012345680000.0)  // expect: 1.2345678901234568e20
print(1.0 / 0.0)                // expect: inf
print(-1.0 / 0.0)               // expect: -inf
print(0.0 / 0.0)                // expect: NaN
// The same form inside containers, in interpolation and in messages.
print([1e16, 2.0])   // expect: [1e16, 2.0]
print("x = {1e-7}")  // expect: x = 1e-7
print(str(1e300))    // expect: 1e300
action show(x) {}
print(call(show, 1e20))  // expect: call(show, 1e20)

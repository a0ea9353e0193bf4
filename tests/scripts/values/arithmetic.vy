print(7 / 2)         // expect: 3
print(-7 / 2)        // expect: -3
print(7 % 3)         // expect: 1
print(1 + 2.5)       // expect: 3.5
print(10 / 4.0)      // expect: 2.5
print(2 * 3 + 4)     // expect: 10
print(2 * (3 + 4))   // expect: 14
print("a" + "b")     // expect: ab
print([1] + [2, 3])  // expect: [1, 2, 3]
print(1s + 500ms)    // expect: 1500ms
print(2s * 3)        // expect: 6s
print(3 * 2s)        // expect: 6s
print(-(5))          // expect: -5

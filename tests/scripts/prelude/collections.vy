print(len([1, 2, 3]))          // expect: 3
print(len({a: 1}))             // expect: 1
print(len("héllo"))            // expect: 5
print(keys({a: 1, b: 2}))      // expect: ["a", "b"]
print(values({a: 1, b: 2}))    // expect: [1, 2]
print(get({a: 1}, "a"))        // expect: 1
print(get({a: 1}, "z"))        // expect: nil
print(get([1, 2], 5, "none"))  // expect: none
let xs = [3, 1, 2]
push(xs, 0)
print(xs)                                             // expect: [3, 1, 2, 0]
print(sort(xs))                                       // expect: [0, 1, 2, 3]
print(xs)                                             // expect: [3, 1, 2, 0]
print(sort(["b", "a"]))                               // expect: ["a", "b"]
print(range(0, 4))                                    // expect: [0, 1, 2, 3]
print(range(3))                                       // expect: [0, 1, 2]
print(range(5, 2))                                    // expect: []
print(map([1, 2, 3], fn(x) { x * x }))                // expect: [1, 4, 9]
print(filter([1, 2, 3, 4], fn(x) { x % 2 == 0 }))     // expect: [2, 4]
print(reduce([1, 2, 3], 10, fn(acc, x) { acc + x }))  // expect: 16
print(join(["a", "b", "c"], "-"))                     // expect: a-b-c
print(split("a,b,,c", ","))                           // expect: ["a", "b", "", "c"]
print(contains([1, 2], 2))                            // expect: true
print(contains({k: 1}, "k"))                          // expect: true
print(contains("voyager", "yag"))                     // expect: true
print(any([1, 2], fn(x) { x > 1 }))                   // expect: true
print(all([1, 2], fn(x) { x > 1 }))                   // expect: false
print(find([1, 2, 3], fn(x) { x > 1 }))               // expect: 2
print(sum([1, 2, 3]))                                 // expect: 6
print(enumerate(["a", "b"]))                          // expect: [[0, "a"], [1, "b"]]
print(flat_map([1, 2], fn(x) { [x, x] }))             // expect: [1, 1, 2, 2]
print(slice([1, 2, 3, 4], 1, 3))                      // expect: [2, 3]
print(reverse([1, 2, 3]))                             // expect: [3, 2, 1]
print(pop([1, 2, 3]))                                 // expect: 3

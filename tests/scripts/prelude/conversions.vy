print(str(1) + str([1]))  // expect: 1[1]
print(int("42") + 1)      // expect: 43
print(int(3.9))           // expect: 3
print(int(2s))            // expect: 2000
print(float(2))           // expect: 2.0
print(type_of(1))         // expect: int
print(type_of(1.0))       // expect: float
print(type_of("s"))       // expect: string
print(type_of([]))        // expect: list
print(type_of({}))        // expect: record
print(type_of(nil))       // expect: nil
print(type_of(print))     // expect: fn
action a() {}
print(type_of(a))                     // expect: action
print(type_of(call(a)))               // expect: message
print(upper("abc"),)                  // expect: ABC
print(trim("  x  "))                  // expect: x
print(replace("a-b-c", "-", "+"))     // expect: a+b+c
print(starts_with("voyager", "voy"))  // expect: true
print(abs(-3))                        // expect: 3
print(min(2, 1))                      // expect: 1
print(max(1s, 2s))                    // expect: 2s

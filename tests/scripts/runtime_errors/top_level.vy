print("before")  // expect: before
let x = [1][3]
print("never")
// expect runtime error: E0203

action write(path, text) {}
action done(results) {}
let m = call(write, "a.txt", "hi")
print(m.op)                         // expect: call
print(m.action)                     // expect: write
print(m.args)                       // expect: ["a.txt", "hi"]
print(data(5).value)                // expect: 5
print(seq([m, data(1)]).items)      // expect: [call(write, "a.txt", "hi"), data(1)]
print(promise([m], done).callback)  // expect: done
print(delay(3s).duration)           // expect: 3s
print(void(m).inner)                // expect: call(write, "a.txt", "hi")
print(noop.op)                      // expect: noop

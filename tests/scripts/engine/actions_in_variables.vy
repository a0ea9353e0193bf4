// `call` takes any value that holds an action.
action hi(x) { print("hi {x}") }
let target = hi
fn send(a, x) { call(a, x) }
send(target, 1)  // expect: hi 1

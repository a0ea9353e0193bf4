// The seed example: A first, then B and C concurrently.
action greet(who) { print("hello, {who}") }

seq([call(greet, "A"), conc([call(greet, "B"), call(greet, "C")])])
// expect: hello, A
// expect: hello, B
// expect: hello, C

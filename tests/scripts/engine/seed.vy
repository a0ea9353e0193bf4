// SPEC §1: A first, then B and C (B and C only after A).
action greet(who) { print("hello, {who}") }
seq([call(greet, "A"), conc([call(greet, "B"), call(greet, "C")])])
// expect: hello, A
// expect: hello, B
// expect: hello, C

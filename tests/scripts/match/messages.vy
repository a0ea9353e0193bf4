action greet(who) {}
action write(x) {}
fn kind(m) {
  match m {
    call(greet, who) => "greet {who}",
    call(write, ..) => "some write",
    call(_, a, b) => "two-arg call",
    data({n}) => "data n={n}",
    data(v) => "data {v}",
    seq([first, ..]) => "seq starting {first}",
    conc(items) => "conc of {len(items)}",
    promise(items, cb) => "promise to {cb}",
    delay(d) => "delay {d}",
    void(inner) => "void {inner}",
    noop => "noop",
    _ => "other"
  }
}
print(kind(call(greet, "A")))                        // expect: greet A
print(kind(call(write, 1)))                          // expect: some write
print(kind(data({n: 3})))                            // expect: data n=3
print(kind(data(1)))                                 // expect: data 1
print(kind(seq([call(write, 1), data(2)])))          // expect: seq starting call(write, 1)
print(kind(conc([call(write, 1), call(write, 2)])))  // expect: conc of 2
print(kind(promise([], greet)))                      // expect: promise to greet
print(kind(delay(2s)))                               // expect: delay 2s
print(kind(void(data(1))))                           // expect: void data(1)
print(kind(noop))                                    // expect: noop
print(kind(5))                                       // expect: other

// A guard that fails falls through to the next arm with no leftovers.
fn f(x) {
  match x {
    [a, b] if a > b => "desc",
    [a, b] => "asc {a} {b}",
    _ => "other"
  }
}
print(f([2, 1]))  // expect: desc
print(f([1, 2]))  // expect: asc 1 2
print(f(1))       // expect: other

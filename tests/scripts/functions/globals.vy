let total = 0
fn add(n) { total = total + n }
add(5)
add(6)
print(total)  // expect: 11
action add_later(n) {
  total = total + n
  print(total)
}
call(add_later, 100)  // expect: 111

// A short tour of the language (the README's, runnable).
let total = 0
fn square(x) { x * x }
let inc = fn(x) { x + 1 }
print("7² = {square(7)}, and inc(1) = {inc(1)}")

let xs = [1, 2, 3]
let r = {name: "job", tries: 0}
r.tries += 1
print(map(xs, fn(x) { x * 10 }))
print([1500ms, 2000ms, now() + 5m])

for x in range(0, 3) {
  if x == 1 { continue }
  print(x)
}
while total < 3 { total += 1 }

let label = match r {
  {name: "job", tries: n} if n > 3 => "giving up",
  {name, ..} => "running {name}",
  _ => "unknown"
}
print(label)

// Lists and records are shared by reference.
let xs = [1, 2]
let ys = xs
push(ys, 3)
print(xs)  // expect: [1, 2, 3]
let r = {n: 1}
fn bump(rec) { rec.n = rec.n + 1 }
bump(r)
print(r.n)  // expect: 2
r["m"] = 5
print(r)  // expect: {n: 2, m: 5}
xs[0] = 10
print(xs[0])   // expect: 10
print(xs[-1])  // expect: 3
r.n += 10
print(r.n)  // expect: 12
xs[1] -= 2
print(xs)  // expect: [10, 0, 3]

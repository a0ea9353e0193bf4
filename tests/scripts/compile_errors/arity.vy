fn square(x) { x * x }
print(square(1, 2))
print(len())
// error: E0102
// error: `square` takes 1 argument but 2 were given
// error: `len` takes 1 argument but 0 were given

let xs = [1, 2]
let ys = [0, ..xs]
// error: E0121
// error: `..` spreads a list only into a call's arguments
// error: join lists with `+`

action go() {
  let x = 5
  x(1)
}
call(go)
// expect runtime error: E0208
// expect runtime error: int `5` is not a function

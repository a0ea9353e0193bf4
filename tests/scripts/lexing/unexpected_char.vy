let x = 1 $ 2
// error: E0006

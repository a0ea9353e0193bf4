action bad() { [1, 2][5] }
call(bad)
// expect runtime error: E0203
// expect runtime error: index 5 is out of range for a list of length 2

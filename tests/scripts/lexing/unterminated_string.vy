let s = "abc
print(1)
// error: E0002
// error: This string never ends

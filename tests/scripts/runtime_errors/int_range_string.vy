print(int("99999999999999999999"))
// expect runtime error: E0201
// expect runtime error: int: `99999999999999999999` is outside the int range

// int() of a float or string outside the int range says what the range is.
print(int(9.2e18))  // expect: 9200000000000000000
print(int(1e300))
// expect runtime error: E0201
// expect runtime error: int: 1e300 is outside the int range, -9223372036854775808 to 9223372036854775807

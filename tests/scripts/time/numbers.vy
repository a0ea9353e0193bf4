print(format_number(1234567))
// expect: 1234567
print(format_number(1234567, {thousands: ","}))
// expect: 1,234,567
print(format_number(-1234567.891, {decimals: 2, thousands: ","}))
// expect: -1,234,567.89
print(format_number(3.14159, {decimals: 3}))
// expect: 3.142
print(format_number(42, {decimals: 2}))
// expect: 42.00
print(format_number(-7, {width: 5, fill: "0"}))
// expect: -0007
print(format_number(7.5, {width: 6}))
// expect:    7.5
print(pad_start("7", 3, "0"))
// expect: 007
print(pad_end("ab", 4) + "|")
// expect: ab  |
print(pad_start("long", 2))
// expect: long

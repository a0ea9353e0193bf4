action big() { 9223372036854775807 + 1 }
call(big)
// expect runtime error: E0201
// expect runtime error: integer overflow

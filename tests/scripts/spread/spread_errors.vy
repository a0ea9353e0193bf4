fn two(a, b) { a + b }
action wrong_count() { two(..[1, 2, 3]) }
action not_a_list() { two(1, ..5) }
call(wrong_count)
call(not_a_list)
// expect runtime error: `two` takes 2 arguments but got 3
// expect runtime error: `..` spreads a list into a call's arguments, got int `5`

action bad_rfc() { parse_time("2024-13-01") }
action bad_pattern_fit() { parse_time("hello", "%Y-%m-%d") }
action bad_date() { make_time({year: 2024, month: 2, day: 30}) }
action missing() { make_time({year: 2024, month: 2}) }
action not_time() { format_time(5, "%Y") }
action bad_option() { format_number(1, {decimals: 99}) }
call(bad_rfc)
call(bad_pattern_fit)
call(bad_date)
call(missing)
call(not_time)
call(bad_option)
// expect runtime error: parse_time: `2024-13-01` is not an RFC 3339 time
// expect runtime error: parse_time: `hello` does not fit `%Y-%m-%d`
// expect runtime error: make_time:
// expect runtime error: make_time: `day` is missing
// expect runtime error: format_time expects a time (such as now()), got int `5`
// expect runtime error: format_number: option `decimals` cannot be int `99`

// Times are UTC; RFC 3339 by default, or a strftime-style pattern.
let t = parse_time("2024-02-28T22:30:05.250+02:00")
print(t)
// expect: 2024-02-28T20:30:05.250Z
print(format_time(t))
// expect: 2024-02-28T20:30:05.250Z
print(format_time(t, "%Y-%m-%d %H:%M:%S"))
// expect: 2024-02-28 20:30:05
print(format_time(t, "%a %d %b %Y, day %j"))
// expect: Wed 28 Feb 2024, day 059
print(parse_time("15/01/2024 10:30", "%d/%m/%Y %H:%M"))
// expect: 2024-01-15T10:30:00Z
print(time_parts(t))
// expect: {year: 2024, month: 2, day: 28, hour: 20, minute: 30, second: 5, millisecond: 250, weekday: 3, day_of_year: 59}
print(add_days(t, 2))
// expect: 2024-03-01T20:30:05.250Z
print(add_months(parse_time("2024-01-31T00:00:00Z"), 1))
// expect: 2024-02-29T00:00:00Z
print(make_time({year: 2024, month: 12, day: 25, hour: 8}))
// expect: 2024-12-25T08:00:00Z
print(make_time({year: 1970, month: 1, day: 1}) == parse_time("1970-01-01T00:00:00Z"))
// expect: true
print(parse_time("2024-01-01T00:00:00Z") - parse_time("2023-12-31T00:00:00Z"))
// expect: 24h
print(2s * 1.5)
// expect: 3s
print(0.25 * 1m)
// expect: 15s
print(1s / 4.0)
// expect: 250ms

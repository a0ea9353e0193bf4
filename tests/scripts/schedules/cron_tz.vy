// A cron expression, read in a time zone: 09:00 in Paris on weekdays is
// 08:00 UTC in winter. 1970-01-01 was a Thursday; the weekend is passed
// over.
// args: --for 120h
schedule report cron "0 9 * * MON-FRI" tz "Europe/Paris" {
  print("report at {now()} ({format_time(now(), "%a")})")
}
// expect: report at 1970-01-01T08:00:00Z (Thu)
// expect: report at 1970-01-02T08:00:00Z (Fri)
// expect: report at 1970-01-05T08:00:00Z (Mon)

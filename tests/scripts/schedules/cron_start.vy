// --clock-start sets where the virtual clock begins; in July Paris is UTC+2.
// args: --clock-start 2026-07-01T00:00:00Z --for 48h
schedule morning cron "30 6 * * *" tz "Europe/Paris" { print("morning {now()}") }
schedule quarter cron "*/15 0 1 7 *" { print("quarter {now()}") }
// expect: quarter 2026-07-01T00:15:00Z
// expect: quarter 2026-07-01T00:30:00Z
// expect: quarter 2026-07-01T00:45:00Z
// expect: morning 2026-07-01T04:30:00Z
// expect: morning 2026-07-02T04:30:00Z

// A schedule that cannot fire does not compile.
schedule a every 0s { print("a") }
// error: [E0125] Error: schedule `a` would fire every 0ms
schedule b cron "0 9 * * MON-FRY" { print("b") }
// error: schedule `b` has a bad cron expression: `FRY` is not a value of the day of the week field
schedule c cron "0 9 * * *" tz "Europe/Pariss" { print("c") }
// error: schedule `c`: `Europe/Pariss` is not a time zone the database knows
schedule d every 1h overlap never { print("d") }
// error: `overlap never` is not an overlap policy of schedule `d`
schedule e cron "0 0 31 2 *" { print("e") }
// error: names no day that exists
schedule f every 1h tz "UTC" { print("f") }
// error: `tz` goes with `cron`
fn g() {
  schedule h every 1h { print("h") }
}
// error: A schedule declaration must be at the top level

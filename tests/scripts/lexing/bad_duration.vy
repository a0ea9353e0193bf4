let d = 3days
// error: E0005
// error: `days` is not a duration unit
// error: durations are written 250ms, 2s, 5m or 1h

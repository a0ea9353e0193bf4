// The schedule words are names everywhere else, and a schedule is an
// action of no parameters: a call runs it now.
let every = 2
let cron = "x"
fn schedule(n) { n * every }
print("{schedule(3)} {cron}")
// expect: 6 x
schedule nightly every 24h { print("backup") }
call(nightly)
// expect: backup

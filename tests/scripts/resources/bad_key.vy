action deploy(host) limit 1 per hots { print(host) }
// error: E0123
// error: its parameters: host

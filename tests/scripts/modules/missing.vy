import "lib/nowhere.vy"
// error: E0108
// error: cannot import
// error: nowhere.vy: No such file or directory

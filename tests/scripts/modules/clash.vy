import "lib/deploy.vy"
import "other/deploy.vy"
// error: E0122
// error: would both be the namespace `deploy`
// error: the other file, imported here

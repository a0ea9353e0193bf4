// error: E0122
// error: imports itself, through
import "cycle_a.vy"

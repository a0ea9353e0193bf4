// error: E0122
// error: imports itself, through
// error: cycle_a.vy →
import "cycle_b.vy"

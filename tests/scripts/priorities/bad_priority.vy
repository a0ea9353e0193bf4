action a(x) priority 101 { print(x) }
action b(x) priority -101 { print(x) }
action c(x) priority 1 priority 2 { print(x) }
action d(x) priority 99999999999999 { print(x) }
// error: `priority 101` is out of range
// error: `priority -101` is out of range
// error: `priority` is given twice for action `c`
// error: `priority 99999999999999` is out of range

// A second file whose namespace would also be `deploy` (see ../clash.vy).
let x = 1

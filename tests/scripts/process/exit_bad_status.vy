exit(256)
// expect runtime error: exit: the status must be 0 to 255, got 256

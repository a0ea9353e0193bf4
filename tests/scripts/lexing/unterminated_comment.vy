print(1)
/* never /* closed */
// error: E0003

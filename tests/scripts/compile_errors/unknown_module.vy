import nosuchmodule
// error: E0108
// error: There is no module `nosuchmodule`

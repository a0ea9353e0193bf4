action write(x) {}
interest "writes" when call(write, _)
// error: E0109
// error: Topic "writes" has no pass

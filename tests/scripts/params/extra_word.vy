// More words than params, in a script that never calls args().
// params: prod eu
let target = param("env")
print("never")
// stderr: the script takes no word `eu`
// exit: 2

fn f() {
  action inner() {}
  return 1
}
break
return 2
// error: E0107
// error: An action declaration must be at the top level
// error: E0105
// error: `break` outside a loop
// error: E0106
// error: `return` outside a function

// a line comment
/* a block /* nested */ comment */
print(1) /* trailing */  // expect: 1
/*
  multi-line
*/
print(2)  // expect: 2

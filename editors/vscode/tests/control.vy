// SYNTAX TEST "source.voyager" "control flow and operators"
if a >= b { x += 1 } else { y -= 2 }
// <- keyword.control.voyager
//   ^^ keyword.operator.comparison.voyager
//            ^^ keyword.operator.assignment.compound.voyager
//                   ^^^^ keyword.control.voyager
//                            ^^ keyword.operator.assignment.compound.voyager
for x in xs { while c { break; continue } }
// <-- keyword.control.voyager
//    ^^ keyword.control.voyager
//            ^^^^^ keyword.control.voyager
//                      ^^^^^ keyword.control.voyager
//                           ^ punctuation.terminator.statement.voyager
//                             ^^^^^^^^ keyword.control.voyager
match m { call(f, x) if x != 0 => x % 2, _ => r.k }
// <---- keyword.control.voyager
//                   ^^ keyword.control.voyager
//                        ^^ keyword.operator.comparison.voyager
//                             ^^ keyword.operator.arrow.voyager
//                                  ^ keyword.operator.arithmetic.voyager
fn f() { return {k: 1} }
//       ^^^^^^ keyword.control.voyager
//                ^ punctuation.separator.colon.voyager

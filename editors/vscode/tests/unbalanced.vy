// SYNTAX TEST "source.voyager" "an unterminated string stops at the end of its line"
let s = "never closed
//       ^^^^^ string.quoted.double.voyager
let t = 1
// <-- storage.type.let.voyager
//  ^ variable.other.declaration.voyager
//      ^ constant.numeric.integer.decimal.voyager
let u = "open {interp
//             ^^^^^^ meta.interpolation.voyager
action after() { }
// <----- storage.type.action.voyager
//     ^^^^^ entity.name.function.action.voyager

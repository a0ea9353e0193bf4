// SYNTAX TEST "source.voyager" "literals"
let xs = [42, 1_000, 0xff, 1.5, 2e3, 250ms, 1h]
//        ^^ constant.numeric.integer.decimal.voyager
//            ^^^^^ constant.numeric.integer.decimal.voyager
//                   ^^^^ constant.numeric.integer.hexadecimal.voyager
//                         ^^^ constant.numeric.float.voyager
//                              ^^^ constant.numeric.float.voyager
//                                   ^^^^^ constant.numeric.duration.voyager
//                                          ^^ constant.numeric.duration.voyager
let t = true and not false or nil
//      ^^^^ constant.language.voyager
//           ^^^ keyword.operator.logical.voyager
//               ^^^ keyword.operator.logical.voyager
//                   ^^^^^ constant.language.voyager
//                         ^^ keyword.operator.logical.voyager
//                            ^^^ constant.language.voyager
let s = "a\n\"{who}\q"
//      ^ punctuation.definition.string.begin.voyager
//        ^^ constant.character.escape.voyager
//          ^^ constant.character.escape.voyager
//            ^ punctuation.section.interpolation.begin.voyager
//             ^^^ variable.other.voyager
//                ^ punctuation.section.interpolation.end.voyager
//                 ^^ invalid.illegal.escape.voyager
let n = "sum {f("x") + 1} done"
//            ^ meta.interpolation.voyager
//              ^^^ string.quoted.double.voyager
//                   ^ keyword.operator.arithmetic.voyager
//                        ^^^^ string.quoted.double.voyager
// A triple-quoted string spans lines and is raw: no escapes, no interpolation.
let help = """
//         ^^^ punctuation.definition.string.begin.voyager
  usage: {who} \n
//^^^^^^^^^^^^^^^ string.quoted.triple.voyager
//       ^^^^^ - meta.interpolation.voyager
//             ^^ - constant.character.escape.voyager
"""
// <--- punctuation.definition.string.end.voyager
let after = 1
// <--- storage.type.let.voyager

// SYNTAX TEST "source.voyager" "message constructors"
seq([call(a), conc([call(b), data(1)])])
// <-- support.function.constructor.voyager
//            ^^^^ support.function.constructor.voyager
//                           ^^^^ support.function.constructor.voyager
promise([delay(2s), defer(now() + 5m)], cb)
// <------ support.function.constructor.voyager
//       ^^^^^ support.function.constructor.voyager
//             ^^ constant.numeric.duration.voyager
//                  ^^^^^ support.function.constructor.voyager
//                        ^^^ support.function.builtin.voyager
//                                ^^ constant.numeric.duration.voyager
void(noop)
// <--- support.function.constructor.voyager
//   ^^^^ support.constant.noop.voyager

// SYNTAX TEST "source.voyager" "declarations"
action greet(who) { print("hello") }
// <----- storage.type.action.voyager
//     ^^^^^ entity.name.function.action.voyager
//                  ^^^^^ support.function.builtin.voyager
fn square(x) { x * x }
// <- storage.type.function.voyager
// ^^^^^^ entity.name.function.voyager
//               ^ keyword.operator.arithmetic.voyager
let total = 0
// <-- storage.type.let.voyager
//  ^^^^^ variable.other.declaration.voyager
//        ^ keyword.operator.assignment.voyager
//          ^ constant.numeric.integer.decimal.voyager
import passes
// <----- keyword.control.import.voyager
//     ^^^^^^ entity.name.namespace.voyager
interest "writes" when call(write, _)
// <------- storage.type.filter.voyager
//       ^^^^^^^^ string.quoted.double.topic.voyager
//                ^^^^ keyword.control.when.voyager
//                     ^^^^ support.function.constructor.voyager
observe "audit" when data({kind: "audit", ..})
// <------ storage.type.filter.voyager
//      ^^^^^^^ string.quoted.double.topic.voyager
//                   ^^^^ support.function.constructor.voyager
//                                        ^^ keyword.operator.rest.voyager
pass "writes" (msgs) { passes.batch(msgs, write_many) }
// <--- storage.type.pass.voyager
//   ^^^^^^^^ string.quoted.double.topic.voyager
//                           ^ punctuation.accessor.voyager
//                                      ^ punctuation.separator.comma.voyager
let inc = fn(x) { x + 1 }
//        ^^ storage.type.voyager
//                  ^ keyword.operator.arithmetic.voyager
action deploy(host) limit 1 per host rate 2/s { print(host) }
//                  ^^^^^ keyword.other.resource.voyager
//                        ^ constant.numeric.integer.decimal.voyager
//                          ^^^ keyword.other.resource.voyager
//                              ^^^^ variable.parameter.key.voyager
//                                   ^^^^ keyword.other.resource.voyager
//                                        ^ constant.numeric.integer.decimal.voyager
//                                         ^ keyword.operator.rate.voyager
//                                          ^ constant.language.unit.voyager
action urgent(x) limit 2 priority -5 { print(x) }
//                       ^^^^^^^^ keyword.other.resource.voyager
//                                ^^ constant.numeric.integer.decimal.voyager
let priority = 1
//  ^^^^^^^^ variable.other.declaration.voyager
let limit = 1
//  ^^^^^ variable.other.declaration.voyager
action ship(host) limit 1 retry 3 backoff 2s { print(host) }
//                        ^^^^^ keyword.other.resource.voyager
//                                ^^^^^^^ keyword.other.resource.voyager
//                                        ^^ constant.numeric.duration.voyager
schedule report cron "0 9 * * MON-FRI" tz "Europe/Paris" overlap skip { print("report") }
// <------- storage.type.schedule.voyager
//       ^^^^^^ entity.name.function.schedule.voyager
//              ^^^^ keyword.other.schedule.voyager
//                   ^^^^^^^^^^^^^^^^^ string.quoted.double.voyager
//                                     ^^ keyword.other.schedule.voyager
//                                                       ^^^^^^^ keyword.other.schedule.voyager
//                                                               ^^^^ keyword.other.schedule.voyager
schedule nightly every 24h { print("backup") }
//               ^^^^^ keyword.other.schedule.voyager
//                     ^^^ constant.numeric.duration.voyager

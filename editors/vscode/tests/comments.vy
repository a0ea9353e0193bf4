// SYNTAX TEST "source.voyager" "comments"
let a = 1 // trailing
//        ^^^^^^^^^^^ comment.line.double-slash.voyager
/* outer /* inner */ still comment */ let b = 2
// <- punctuation.definition.comment.begin.voyager
//          ^^^^^ comment.block.voyager
//                   ^^^^^ comment.block.voyager
//                                    ^^^ storage.type.let.voyager

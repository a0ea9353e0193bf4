// `priority` is a word only in an action's clause: a name elsewhere.
let priority = 3
fn bump(priority) { priority + 1 }
print(bump(priority))
// expect: 4

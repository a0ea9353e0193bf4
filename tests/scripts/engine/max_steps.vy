// args: --max-steps 5
action again(n) {
  print(n)
  call(again, n + 1)
}
call(again, 0)
// expect: 0
// expect: 1
// expect: 2
// expect: 3
// expect: 4
// expect runtime error: E0304
// expect runtime error: stopped after 5 steps
// expect runtime error: call(again, 5)

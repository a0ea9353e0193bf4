// A triple-quoted string spans lines and is raw: no escapes, no
// interpolation. The line break after the opening quotes and the line of
// the closing quotes are dropped, and the common indentation is removed.
fn usage() {
  """
    usage: deploy TARGET
      --dry-run   print the steps, run nothing
    "quotes", \n and {braces} stay as written
  """
}
print(usage())
// expect: usage: deploy TARGET
// expect:   --dry-run   print the steps, run nothing
// expect: "quotes", \n and {braces} stay as written
print("""one line""")       // expect: one line
print(len("""
  ab
  """))  // expect: 2

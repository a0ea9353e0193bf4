action unclosed() { regex_match("a(b", "(b") }
action lookahead() { regex_find("ab", "a(?=b)") }
action not_text() { regex_match(42, "4") }
call(unclosed)
call(lookahead)
call(not_text)
// expect runtime error: E0213
// expect runtime error: regex_match: invalid regular expression:
// expect runtime error: unclosed group
// expect runtime error: look-around, including look-ahead and look-behind, is not supported
// expect runtime error: regex_match expects a string, got int `42`

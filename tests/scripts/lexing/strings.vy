let who = "world"
print("hello, {who}!")                    // expect: hello, world!
print("tab\there")                        // expect: tab	here
print("quote \" and \\ slash")            // expect: quote " and \ slash
print("braces \{ \}")                     // expect: braces { }
print("sum {1 + 2} and {str([1, "x"])}")  // expect: sum 3 and [1, "x"]
print("nested {"inner {who}"}")           // expect: nested inner world
print("")                                 // expect:

// args: --backoff 1_500ms
print("ran")  // expect: ran

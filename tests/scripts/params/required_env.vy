// env() without a default is required, and checked before anything runs.
// params:
print("never")
let token = env("VOYAGER_TEST_SURELY_UNSET_TOKEN")
// stderr: environment variable VOYAGER_TEST_SURELY_UNSET_TOKEN is required
// stderr: environment: VOYAGER_TEST_SURELY_UNSET_TOKEN (required)
// exit: 2

// `import "path.vy"`: the file (relative to this one) in its own namespace,
// the file's stem; its actions run like this file's own.
import "lib/deploy.vy"
import "lib/helpers.vy"
print(deploy.default_env)
// expect: staging
print(helpers.shout("hi"))
// expect: HI
seq(deploy.all(["web-1", "web-2"], "prod"))
call(deploy.host, "db", deploy.default_env)
// The seq's steps and the call take turns on the main queue:
// expect: deploy WEB-1 to prod
// expect: deploy DB to staging
// expect: deploy WEB-2 to prod

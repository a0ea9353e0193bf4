// then(m, next): next runs with what m yielded appended: one value as is,
// none as nil, several as a list. Chains read left to right (Celery's chain).
action fetch(url) { "<html>{url}</html>" }
action measure(page) { len(page) }
action show(label, n) { print("{label}: {n}") }
action nothing() { nil }
action two() { [1, 2] }
action both() { [call(one, 1), call(one, 2)] }
action one(n) { n * 10 }
then(then(call(fetch, "a.org"), measure), call(show, "size"))
then(call(nothing), call(show, "nothing"))
then(call(both), call(show, "both"))
then(data(7), call(show, "data"))
// A list that is a value is one value.
then(call(two), call(show, "list"))
// expect: data: 7
// expect: nothing: nil
// expect: list: [1, 2]
// expect: size: 18
// expect: both: [10, 20]

// Optimization passes: functions from a batch of messages (a topic's
// queue, oldest first) to the messages to run. Use them in a `pass`:
//
//   import passes
//   interest "writes" when call(write, _)
//   pass "writes" (msgs) { passes.batch(msgs, write_many) }

// Keeps the first of each set of equal messages, in order.
//   passes.dedupe([call(f, 1), call(f, 2), call(f, 1)])
//   => [call(f, 1), call(f, 2)]
fn dedupe(msgs) {
  let seen = {}
  let kept = []
  for m in msgs {
    let key = str(m)
    if not contains(seen, key) {
      seen[key] = true
      push(kept, m)
    }
  }
  kept
}

// Merges the one-argument calls into one call(into, [args…]); other
// messages pass through unchanged, before it.
//   passes.batch([call(write, 1), call(write, 2)], write_many)
//   => [call(write_many, [1, 2])]
fn batch(msgs, into) {
  let args = []
  let others = []
  for m in msgs {
    match m {
      call(_, x) => push(args, x),
      _ => push(others, m)
    }
  }
  if len(args) > 0 { push(others, call(into, args)) }
  others
}

// Like batch, in calls of at most n arguments each.
//   passes.chunked([call(w, 1), call(w, 2), call(w, 3)], 2, w_many)
//   => [call(w_many, [1, 2]), call(w_many, [3])]
fn chunked(msgs, n, into) {
  if n < 1 { fail("chunked: the chunk size must be at least 1, got {n}") }
  let out = []
  let chunk = []
  for m in msgs {
    match m {
      call(_, x) => {
        push(chunk, x)
        if len(chunk) == n {
          push(out, call(into, chunk))
          chunk = []
        }
      },
      _ => push(out, m)
    }
  }
  if len(chunk) > 0 { push(out, call(into, chunk)) }
  out
}

// Keeps only the latest message for each key_fn(m), in the order of those
// latest messages.
//   passes.latest_by([call(set, "a", 1), call(set, "a", 2)], fn(m) { m.args[0] })
//   => [call(set, "a", 2)]
fn latest_by(msgs, key_fn) {
  let last = {}
  let i = 0
  for m in msgs {
    last[str(key_fn(m))] = i
    i = i + 1
  }
  let out = []
  i = 0
  for m in msgs {
    if last[str(key_fn(m))] == i { push(out, m) }
    i = i + 1
  }
  out
}

// Orders the batch by key_fn(m), smallest first; equal keys keep their
// order (a stable merge sort). Keys must compare with `<`.
//   passes.sort_by(msgs, fn(m) { m.args[0].priority })
fn sort_by(msgs, key_fn) {
  let keyed = map(msgs, fn(m) { [key_fn(m), m] })
  map(merge_sort(keyed), fn(pair) { pair[1] })
}

fn merge_sort(pairs) {
  let n = len(pairs)
  if n <= 1 { return pairs }
  let mid = n / 2
  let left = merge_sort(slice(pairs, 0, mid))
  let right = merge_sort(slice(pairs, mid))
  let out = []
  let i = 0
  let j = 0
  while i < len(left) and j < len(right) {
    if right[j][0] < left[i][0] {
      push(out, right[j])
      j += 1
    } else {
      push(out, left[i])
      i += 1
    }
  }
  out + slice(left, i) + slice(right, j)
}

// Batches one-argument calls per key: call(into, key, [args…]) for each
// key_fn(m), in the order keys first appear; other messages pass through.
//   passes.group_by(msgs, fn(m) { m.args[0].table }, insert_rows)
fn group_by(msgs, key_fn, into) {
  let groups = {}
  let order = []
  let out = []
  for m in msgs {
    match m {
      call(_, x) => {
        let key = key_fn(m)
        let k = str(key)
        if not contains(groups, k) {
          groups[k] = []
          push(order, key)
        }
        push(groups[k], x)
      },
      _ => push(out, m)
    }
  }
  for key in order { push(out, call(into, key, groups[str(key)])) }
  out
}

// Lets at most n messages through per pass run; the rest wait in the topic
// for the next run. A batch size, not a rate limit: a pass runs whenever
// the main queue has nothing ready, so the batches follow each other at
// once. To limit how many calls run at once, or how many start a second,
// declare the action with `limit n` or `rate n/s` (README: Resources).
//   passes.limit(msgs, 10)
fn limit(msgs, n) {
  {ready: slice(msgs, 0, n), further: slice(msgs, n)}
}

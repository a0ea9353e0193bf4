//! Resource limits on actions (`limit n per key`, `rate n/unit`), measured
//! from what the actions record, on the virtual clock: calls on one
//! resource run one after the other in the order they were asked for,
//! never more at once than the limit, starts as far apart as the rate
//! says, and every call still ends done or dead.

mod common;

use std::collections::{BTreeMap, HashMap};

/// Runs a script with `--clock virtual` (and `extra` options); returns
/// stdout's lines, stderr and the exit status.
fn run(script: &str, extra: &[&str]) -> (Vec<String>, String, i32) {
    let mut args = vec!["run", "--clock", "virtual"];
    args.extend_from_slice(extra);
    args.push("-");
    let out = common::voyager(&args, &[], Some(script));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (
        stdout.lines().map(str::to_string).collect(),
        stderr,
        out.status.code().unwrap_or(-1),
    )
}

/// `start KEY N AT` and `end KEY N AT` lines: per key, (n, start, end) in
/// the order the calls started.
fn spans(lines: &[String]) -> BTreeMap<String, Vec<(i64, i64, i64)>> {
    let mut starts: HashMap<(String, i64), i64> = HashMap::new();
    let mut by_key: BTreeMap<String, Vec<(i64, i64, i64)>> = BTreeMap::new();
    for line in lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [what, key, n, at] = words[..] else {
            panic!("unexpected line {line:?}");
        };
        let n: i64 = n.parse().expect("a call number");
        let at: i64 = at.parse().expect("a time in ms");
        match what {
            "start" => {
                starts.insert((key.to_string(), n), at);
            }
            "end" => {
                let start = starts[&(key.to_string(), n)];
                by_key
                    .entry(key.to_string())
                    .or_default()
                    .push((n, start, at));
            }
            _ => panic!("unexpected line {line:?}"),
        }
    }
    for calls in by_key.values_mut() {
        calls.sort_by_key(|&(n, start, _)| (start, n));
    }
    by_key
}

#[test]
fn a_hundred_calls_on_five_hosts_run_one_at_a_time_per_host_in_order() {
    // Each deploy takes a while that depends on its number, returns a
    // follow-up call, and records when it started and when its follow-up
    // ended: the host is held for the whole of it.
    let script = r#"
fn ms() { let d = now() - parse_time("1970-01-01T00:00:00Z"); int(d / 1ms) }
let running = {}
let peak = 0
action deploy(host, n) limit 1 per host {
  running[host] = get(running, host, 0) + 1
  if running[host] > peak { peak = running[host] }
  print("start {host} {n} {ms()}")
  seq([delay((n % 7 + 1) * 10ms), call(finish, host, n)])
}
action finish(host, n) {
  running[host] -= 1
  print("end {host} {n} {ms()}")
}
action report() { eprint("peak {peak}") }
seq([conc(map(range(0, 100), fn(n) { call(deploy, "h{n % 5}", n) })), call(report)])
"#;
    let (lines, stderr, code) = run(script, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("peak 1"), "{stderr}");
    let by_key = spans(&lines);
    assert_eq!(by_key.len(), 5);
    for (key, calls) in &by_key {
        assert_eq!(calls.len(), 20, "{key}");
        // In the order they were asked for (n ascending within a host).
        let order: Vec<i64> = calls.iter().map(|c| c.0).collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "{key} ran out of order");
        // One at a time: each starts when the one before it ended, and
        // not before.
        for pair in calls.windows(2) {
            let (_, _, end) = pair[0];
            let (n, start, _) = pair[1];
            assert_eq!(
                start, end,
                "{key}: call {n} started at {start}, the one before ended at {end}"
            );
        }
    }
    // The hosts went on side by side: all done when the longest host is.
    let last_end = by_key.values().map(|c| c.last().unwrap().2).max().unwrap();
    let longest: i64 = by_key
        .values()
        .map(|c| c.iter().map(|(n, _, _)| (n % 7 + 1) * 10).sum::<i64>())
        .max()
        .unwrap();
    assert_eq!(last_end, longest);
}

#[test]
fn concurrency_never_goes_above_the_limit() {
    // `limit 3` overall, 40 calls of different lengths: counted as they
    // start and as their subtrees end.
    let script = r#"
let running = 0
let peak = 0
let done = 0
action work(n) limit 3 {
  running += 1
  if running > peak { peak = running }
  conc([delay((n % 5 + 1) * 100ms), seq([delay(50ms), call(finish, n)])])
}
action finish(n) { running -= 1; done += 1 }
action report() { print("peak {peak} done {done} running {running}") }
seq([conc(map(range(0, 40), fn(n) { call(work, n) })), call(report)])
"#;
    let (lines, stderr, code) = run(script, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(lines, ["peak 3 done 40 running 0"]);
}

#[test]
fn a_rate_spaces_starts_exactly() {
    // 7 a second: call i starts at ceil(i * 1000 / 7) ms, on the dot.
    let script = r#"
fn ms() { let d = now() - parse_time("1970-01-01T00:00:00Z"); int(d / 1ms) }
action fetch(i) rate 7/s { print("{i} {ms()}") }
conc(map(range(0, 30), fn(i) { call(fetch, i) }))
"#;
    let (lines, stderr, code) = run(script, &[]);
    assert_eq!(code, 0, "{stderr}");
    let want: Vec<String> = (0..30i64)
        .map(|i| format!("{i} {}", (i * 1000 + 6) / 7))
        .collect();
    assert_eq!(lines, want);
}

#[test]
fn a_limit_and_a_rate_per_key_hold_together() {
    // `limit 2 per host rate 10/s`: per host, starts at least 100ms apart
    // and never more than two at once, each holding for 250ms.
    let script = r#"
fn ms() { let d = now() - parse_time("1970-01-01T00:00:00Z"); int(d / 1ms) }
action sync(host, n) limit 2 per host rate 10/s {
  print("start {host} {n} {ms()}")
  seq([delay(250ms), call(finish, host, n)])
}
action finish(host, n) { print("end {host} {n} {ms()}") }
conc(map(range(0, 12), fn(n) { call(sync, "h{n % 2}", n) }))
"#;
    let (lines, stderr, code) = run(script, &[]);
    assert_eq!(code, 0, "{stderr}");
    let by_key = spans(&lines);
    assert_eq!(by_key.len(), 2);
    for (key, calls) in &by_key {
        for pair in calls.windows(2) {
            assert!(pair[1].1 - pair[0].1 >= 100, "{key}: {pair:?}");
        }
        let mut at_once = 0;
        for &(_, start, _) in calls {
            let running = calls
                .iter()
                .filter(|&&(_, s, e)| s <= start && start < e)
                .count();
            at_once = at_once.max(running);
        }
        assert_eq!(at_once, 2, "{key}");
        // First two at 0 and 100 (the rate), the third when the first
        // ends at 250.
        let starts: Vec<i64> = calls.iter().map(|c| c.1).collect();
        assert_eq!(&starts[..3], &[0, 100, 250], "{key}");
    }
}

#[test]
fn retries_and_limits_together_every_call_ends_done_or_dead() {
    // Random programs: calls on a few keys, some failing retryably a few
    // times, some fatally, some timing out; every call ends done (printed)
    // or dead (in the dead-letter file), exactly once, and per key never
    // two at once.
    let mut rng = common::Rng(0x5eed_1234);
    for round in 0..12 {
        let calls = 20 + rng.below(30);
        let keys = 1 + rng.below(4);
        let mut spec = Vec::new();
        for n in 0..calls {
            // fails before succeeding: 0..3 retryable failures; 9: fatal.
            let fails = match rng.below(10) {
                0..=5 => 0,
                6 | 7 => 1 + rng.below(3),
                8 => 9,
                _ => 99,
            };
            let wrap = rng.below(6);
            spec.push(format!(
                "[{n}, \"k{}\", {fails}, {wrap}, {}]",
                rng.below(keys),
                1 + rng.below(5)
            ));
        }
        let script = format!(
            r#"
fn ms() {{ let d = now() - parse_time("1970-01-01T00:00:00Z"); int(d / 1ms) }}
let tries = {{}}
action work(n, key, fails, length) limit 1 per key {{
  tries[str(n)] = get(tries, str(n), 0) + 1
  if fails == 99 {{ fail("fatal {{n}}") }}
  if tries[str(n)] <= fails {{ retry("again {{n}}") }}
  eprint("start {{n}} {{key}} {{ms()}}")
  seq([delay(length * 10ms), call(finish, n, key)])
}}
action finish(n, key) {{ print("done {{n}} {{key}} {{ms()}}") }}
fn message(s) {{
  let m = call(work, s[0], s[1], s[2], s[4])
  match s[3] {{
    0 => timeout(60ms, m),
    1 => retrying(m, {{attempts: 3, backoff: 10ms}}),
    _ => m
  }}
}}
let specs = [{}]
conc(map(specs, message))
"#,
            spec.join(", ")
        );
        let dead = std::env::temp_dir().join(format!(
            "voyager-resources-{}-{round}.jsonl",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&dead);
        let dead_arg = dead.to_str().expect("a UTF-8 path").to_string();
        let (lines, stderr, code) =
            run(&script, &["--backoff", "20ms", "--dead-letters", &dead_arg]);
        assert!(
            code == 0 || code == 1,
            "round {round}: exit {code}\n{stderr}"
        );
        // (n, key, time) of each hold's start, and of each done.
        let parse = |line: &str, word: &str| -> Option<(i64, String, i64)> {
            let rest = line.strip_prefix(word)?;
            let parts: Vec<&str> = rest.split_whitespace().collect();
            Some((
                parts[0].parse().ok()?,
                parts[1].to_string(),
                parts[2].parse().ok()?,
            ))
        };
        let starts: HashMap<i64, (String, i64)> = stderr
            .lines()
            .filter_map(|l| parse(l, "start "))
            .map(|(n, key, at)| (n, (key, at)))
            .collect();
        let mut ended: BTreeMap<i64, usize> = BTreeMap::new();
        let mut holds = Vec::new();
        for line in &lines {
            let (n, key, end) = parse(line, "done ").unwrap_or_else(|| panic!("unexpected {line}"));
            *ended.entry(n).or_default() += 1;
            holds.push((key, starts[&n].1, end, n));
        }
        // While a call held its key (from its start to its follow-up's
        // end), no other call on that key started.
        for (key, start, end, n) in &holds {
            for (m, (other_key, at)) in &starts {
                assert!(
                    m == n || other_key != key || at <= start || at >= end,
                    "round {round}: call {m} started at {at} on {key} while call {n} held it ({start}..{end})"
                );
            }
        }
        let letters = std::fs::read_to_string(&dead).unwrap_or_default();
        let _ = std::fs::remove_file(&dead);
        for letter in letters.lines() {
            let json: serde_json::Value = serde_json::from_str(letter).expect("JSON");
            let text = json["message"].to_string();
            // The call number is the first argument of the call left in
            // it (work, or its follow-up finish once it ran).
            let at = text.find("\"args\":[").unwrap_or_else(|| panic!("{text}")) + 8;
            let n: i64 = text[at..]
                .split(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("{text}"));
            *ended.entry(n).or_default() += 1;
        }
        for n in 0..calls as i64 {
            let times = ended.get(&n).copied().unwrap_or(0);
            assert_eq!(
                times, 1,
                "round {round}: call {n} ended {times} times\n{stderr}"
            );
        }
    }
}

#[test]
fn calls_waiting_for_their_turn_survive_a_stopped_run_in_a_store() {
    // Stopped by --max-steps while calls wait on their hosts: the store
    // counts them as waiting on a resource, and the same command resumes
    // them; each takes its turn, in order, and runs once. The first two
    // deploys' delays still hold their hosts after the restart.
    let dir = std::env::temp_dir().join(format!("voyager-resources-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let script = dir.join("deploy.vy");
    std::fs::write(
        &script,
        r#"action deploy(host, n) limit 1 per host {
  print("start {host} {n} {int((now() - parse_time("1970-01-01T00:00:00Z")) / 1s)}")
  delay(1s)
}
conc(map(range(0, 6), fn(n) { call(deploy, "h{n % 2}", n) }))
"#,
    )
    .expect("write the script");
    let store = dir.join("run.db");
    let (store, script) = (store.to_str().unwrap(), script.to_str().unwrap());
    let first = common::voyager(
        &[
            "run",
            "--clock",
            "virtual",
            "--store",
            store,
            "--max-steps",
            "5",
            script,
        ],
        &[],
        None,
    );
    assert_eq!(first.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&first.stdout),
        "start h0 0 0\nstart h1 1 0\n"
    );
    let status = common::voyager(&["status", store], &[], None);
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("3 resource"), "{status}");
    // Which item waits on which resource: the waiting calls, in order.
    assert!(
        status.contains(
            "on resource:  #3 waits for deploy: deploy(\"h0\", 2)\n\
             on resource:  #4 waits for deploy: deploy(\"h1\", 3)\n\
             on resource:  #5 waits for deploy: deploy(\"h0\", 4)\n"
        ),
        "{status}"
    );
    let json = common::voyager(&["status", "--json", store], &[], None);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(
        json["waiting_for_resources"][0],
        serde_json::json!({"id": 3, "action": "deploy", "call": "deploy(\"h0\", 2)"}),
        "{json}"
    );
    let second = common::voyager(
        &["run", "--clock", "virtual", "--store", store, script],
        &[],
        None,
    );
    assert_eq!(
        second.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&second.stdout),
        "start h0 2 1\nstart h1 3 1\nstart h0 4 2\nstart h1 5 2\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

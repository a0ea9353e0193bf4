//! The embedding API from the outside, as a Rust program uses it.

use std::cell::RefCell;
use std::rc::Rc;

use voyager::engine::{Config, Finish};
use voyager::vm::{RuntimeError, Value};
use voyager::{LoadError, Voyager};

#[test]
fn two_engines_in_one_process_do_not_interfere() {
    let (mut a, out_a) = Voyager::with_buffer(Config::default());
    let (mut b, out_b) = Voyager::with_buffer(Config::default());
    let src = "let count = 0\naction bump(by) { count += by; print(count) }\n";
    a.load("a.vy", src, None).expect("a loads");
    b.load("b.vy", src, None).expect("b loads");
    for _ in 0..3 {
        let m = a.call_message("bump", vec![Value::Int(1)]).expect("bump");
        a.enqueue(&m);
    }
    let m = b.call_message("bump", vec![Value::Int(100)]).expect("bump");
    b.enqueue(&m);
    a.run();
    b.run();
    assert_eq!(Voyager::take_output(&out_a), "1\n2\n3\n");
    assert_eq!(Voyager::take_output(&out_b), "100\n");
    assert_eq!(a.engine.stats.steps, 3);
    assert_eq!(b.engine.stats.steps, 1);
}

#[test]
fn host_functions_and_actions_are_checked_and_fail_like_script_code() {
    let (mut v, out) = Voyager::with_buffer(Config {
        max_attempts: 3,
        ..Config::default()
    });
    v.register_function("double", 1, 1, |args| match args[0] {
        Value::Int(n) => Ok(Value::Int(n * 2)),
        _ => Err(RuntimeError::type_error("double needs an int")),
    });
    let tries = Rc::new(RefCell::new(0));
    let seen = tries.clone();
    v.register_action("upload", 1, move |args| {
        *seen.borrow_mut() += 1;
        if *seen.borrow() < 3 {
            return Err(RuntimeError::new("E0301", "connection reset").retryable());
        }
        Ok(Value::str(&format!("uploaded {}", args[0].display())))
    });
    v.load(
        "host.vy",
        "action report(results) { print(results) }\nprint(double(21))\npromise([call(upload, \"a.txt\")], report)\ncall(upload)\n",
        None,
    )
    .expect("loads");
    assert_eq!(v.run(), Finish::Idle);
    assert_eq!(Voyager::take_output(&out), "42\n[\"uploaded a.txt\"]\n");
    assert_eq!(*tries.borrow(), 3);
    assert_eq!(v.engine.stats.retries, 2);
    // One argument short (right only for a promise's callback) is a dead
    // letter when the call runs.
    let dead = v.engine.dead_letters();
    assert_eq!(dead.len(), 1);
    assert!(dead[0]
        .error
        .message
        .contains("`upload` takes 1 argument but got 0"));
    // A count no run can take fails where `call` is written.
    match v.load("extra.vy", "call(upload, 1, 2)", None) {
        Err(LoadError::Runtime(d)) => {
            assert_eq!(d.title, "`upload` takes 1 argument but `call` gives it 2");
            assert_eq!(d.loc.map(|l| l.span.start), Some(0));
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }

    // A host function's error is a runtime error with the script's place.
    match v.load("bad.vy", "double(\"x\")", None) {
        Err(LoadError::Runtime(d)) => {
            assert_eq!(d.title, "double needs an int");
            assert!(d.loc.is_some());
        }
        other => panic!("expected a runtime error, got {other:?}"),
    }
    // Unknown names are still compile errors, registered ones are known.
    match v.load("typo.vy", "doubel(1)", None) {
        Err(LoadError::Compile(d)) => {
            assert_eq!(d[0].hint.as_deref(), Some("did you mean `double`?"))
        }
        other => panic!("expected a compile error, got {other:?}"),
    }
}

#[test]
fn stepping_from_rust() {
    let (mut v, out) = Voyager::with_buffer(Config::default());
    v.load(
        "steps.vy",
        "action log(x) { print(x) }\nseq([call(log, 1), call(log, 2), call(log, 3)])\n",
        None,
    )
    .expect("loads");
    assert_eq!(v.engine.queued(), 1);
    assert!(v.engine.step_once());
    v.flush();
    assert_eq!(Voyager::take_output(&out), "1\n");
    assert!(v.engine.step_once());
    assert!(v.engine.step_once());
    assert!(!v.engine.step_once(), "no work is left");
    v.flush();
    assert_eq!(Voyager::take_output(&out), "2\n3\n");
    assert!(v.engine.is_idle());
}

#[test]
fn pool_actions_from_rust_run_off_the_interpreter_thread_at_once() {
    let (mut v, out) = Voyager::with_buffer(Config {
        jobs: 4,
        ..Config::default()
    });
    v.register_pool_action("slow_square", 1, |args| {
        std::thread::sleep(std::time::Duration::from_millis(300));
        match args[0].as_i64() {
            Some(n) => Ok(serde_json::json!(n * n)),
            None => Err(voyager::engine::jobs::JobFailure {
                message: "slow_square needs an int".into(),
                retryable: false,
            }),
        }
    });
    v.load(
        "pool.vy",
        "action total(xs) { print(sum(sort(xs))) }\npromise(map([1, 2, 3, 4], fn(n) { call(slow_square, n) }), total)\ncall(slow_square, \"x\")\n",
        None,
    )
    .expect("loads");
    let started = std::time::Instant::now();
    v.run();
    let took = started.elapsed();
    assert_eq!(Voyager::take_output(&out), "30\n");
    // Four 300ms jobs on four workers: well under the 1.2s they take in a row.
    assert!(
        took < std::time::Duration::from_millis(1000),
        "took {took:?}"
    );
    let dead = v.engine.dead_letters();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].error.message.contains("slow_square needs an int"));
    assert_eq!(dead[0].attempts, 1);
}

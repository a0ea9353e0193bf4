//! Embedding the engine in a Rust program: `cargo run --example embed`.
//!
//! A Rust action does the "real work" (here: a pretend database), a Rust
//! function formats, and a Voyager script wires them into a workflow with
//! retries. Then the program reads the stats and the dead letters.

use std::cell::RefCell;
use std::rc::Rc;

use voyager::engine::Config;
use voyager::vm::{RuntimeError, Value};
use voyager::{LoadError, Voyager};

const SCRIPT: &str = r#"
action import_user(id) {
  let row = fetch_row(id)
  call(store, "user {id}: {row}")
}

// Users 1 to 5; the database is busy the first time user 3 is fetched.
conc(map(range(1, 6), fn(id) { call(import_user, id) }))
"#;

fn main() {
    let (mut v, output) = Voyager::with_buffer(Config::default());

    let busy_once = Rc::new(RefCell::new(true));
    v.register_function("fetch_row", 1, 1, move |args| {
        let Value::Int(id) = args[0] else {
            return Err(RuntimeError::type_error("fetch_row needs an int id"));
        };
        if id == 3 && busy_once.replace(false) {
            return Err(RuntimeError::new("E0301", "database busy").retryable());
        }
        Ok(Value::str(&format!("{{name: user{id}}}")))
    });

    let stored = Rc::new(RefCell::new(Vec::new()));
    let sink = stored.clone();
    v.register_action("store", 1, move |args| {
        sink.borrow_mut().push(args[0].display());
        Ok(Value::Nil)
    });

    match v.load("embedded.vy", SCRIPT, None) {
        Ok(()) => {}
        Err(LoadError::Compile(diags)) => {
            for d in &diags {
                eprint!("{}", v.render(d, false));
            }
            std::process::exit(65);
        }
        Err(LoadError::Runtime(d)) => {
            eprint!("{}", v.render(&d, false));
            std::process::exit(1);
        }
    }
    v.run();

    print!("{}", Voyager::take_output(&output));
    for row in stored.borrow().iter() {
        println!("stored {row}");
    }
    let stats = &v.engine.stats;
    println!(
        "{} steps, {} retries, {} dead letters",
        stats.steps,
        stats.retries,
        v.engine.dead_letters().len()
    );
}

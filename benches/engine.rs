//! Engine benchmarks. Setup (compiling, building and enqueueing messages)
//! is outside the timed part; the timed part runs the engine to idle.
//!
//! `cargo bench --bench engine` measures; `cargo test` runs each once on
//! small sizes (debug builds) as a smoke test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::rc::Rc;
use std::sync::atomic::{AtomicIsize, Ordering};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use voyager::engine::node::{normalize, Node};
use voyager::engine::Config;
use voyager::vm::message::{Args, Message, Msg};
use voyager::vm::value::Value;
use voyager::Voyager;

/// Counts live heap bytes, to report memory per queued message.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Full sizes when optimized; small ones for the debug smoke test.
fn size(full: usize, smoke: usize) -> usize {
    if cfg!(debug_assertions) {
        smoke
    } else {
        full
    }
}

const WORK: &str = "let n = 0\naction work(i) { n = n + 1 }\naction step(j) { n = n + 1 }\naction done(values) { n = n + 1 }\n";

fn engine() -> Voyager {
    let config = Config::default();
    let (mut v, _) = Voyager::with_buffer(config);
    v.load("bench.vy", WORK, None).expect("bench script loads");
    v
}

fn flat_calls(v: &Voyager, count: usize) -> Vec<Msg> {
    let work = v.action_named("work").expect("work");
    (0..count)
        .map(|i| {
            Rc::new(Message::Call {
                action: work.clone(),
                args: Args::One(Value::Int(i as i64)),
            })
        })
        .collect()
}

/// A conc of `branches` promise-wrapped seqs of `steps` calls each.
fn promise_seqs(v: &Voyager, branches: usize, steps: usize) -> Msg {
    let step = v.action_named("step").expect("step");
    let done = v.action_named("done").expect("done");
    let seqs: Box<[Msg]> = (0..branches)
        .map(|_| {
            let calls: Box<[Msg]> = (0..steps)
                .map(|j| {
                    Rc::new(Message::Call {
                        action: step.clone(),
                        args: Args::One(Value::Int(j as i64)),
                    })
                })
                .collect();
            Rc::new(Message::Promise {
                items: Box::new([Rc::new(Message::Seq(calls))]),
                callback: voyager::vm::message::Callback::Action(done.clone()),
            })
        })
        .collect();
    Rc::new(Message::Conc(seqs))
}

/// A seq nested `depth` deep around a conc of `width` calls, at every level.
fn deep_tree(v: &Voyager, depth: usize, width: usize) -> Msg {
    let work = v.action_named("work").expect("work");
    let mut m: Msg = Rc::new(Message::Noop);
    for d in 0..depth {
        let calls: Vec<Msg> = (0..width)
            .map(|i| {
                Rc::new(Message::Call {
                    action: work.clone(),
                    args: Args::One(Value::Int((d * width + i) as i64)),
                })
            })
            .collect();
        let conc = Rc::new(Message::Conc(calls.into_boxed_slice()));
        m = Rc::new(Message::Seq(Box::new([
            Rc::new(Message::Data(Value::Int(d as i64))),
            conc,
            m,
        ])));
    }
    m
}

fn report_memory_per_queued_call() {
    let count = size(1_000_000, 10_000);
    let mut v = engine();
    let before = LIVE.load(Ordering::Relaxed);
    let messages = flat_calls(&v, count);
    for m in &messages {
        v.engine.enqueue(m);
    }
    drop(messages);
    let after = LIVE.load(Ordering::Relaxed);
    let per = (after - before) as f64 / count as f64;
    eprintln!("memory: {per:.1} bytes of heap per queued call(work, i) ({count} queued; the message values dropped)");
    v.run();
}

fn benches(c: &mut Criterion) {
    report_memory_per_queued_call();

    let count = size(2_000_000, 20_000);
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    group.throughput(Throughput::Elements(count as u64));
    group.bench_function(format!("flat_calls_{count}"), |b| {
        b.iter_batched(
            || {
                let mut v = engine();
                for m in flat_calls(&v, count) {
                    v.engine.enqueue(&m);
                }
                v
            },
            |mut v| {
                v.run();
                v
            },
            BatchSize::PerIteration,
        )
    });

    let (branches, steps) = (1_000, size(100, 10));
    group.throughput(Throughput::Elements((branches * steps) as u64));
    group.bench_function(
        format!("conc_of_{branches}_promised_seqs_of_{steps}"),
        |b| {
            b.iter_batched(
                || {
                    let mut v = engine();
                    let m = promise_seqs(&v, branches, steps);
                    v.engine.enqueue(&m);
                    v
                },
                |mut v| {
                    v.run();
                    v
                },
                BatchSize::PerIteration,
            )
        },
    );

    let (depth, width) = (size(1_000, 100), 100);
    group.throughput(Throughput::Elements((depth * width) as u64));
    let v = engine();
    let tree = deep_tree(&v, depth, width);
    group.bench_function(format!("normalize_seq_depth_{depth}_width_{width}"), |b| {
        b.iter(|| {
            let mut out: Vec<Node> = Vec::new();
            normalize(&tree, &mut out);
            // Consumed, so the work cannot be skipped.
            std::hint::black_box(out.len())
        })
    });
    group.finish();
}

/// A script with `filters` interests, each on its own action, none of
/// which the routed `call(work, i)` matches, plus one that takes
/// `call(write, _)` into a topic batched by `passes.batch`.
fn routing_script(filters: usize) -> String {
    let mut src = String::from(
        "import passes\nlet n = 0\naction work(i) { n += 1 }\naction write(x) { }\naction write_many(xs) { n += len(xs) }\n\
         interest \"writes\" when call(write, _)\npass \"writes\" (msgs) { passes.batch(msgs, write_many) }\n",
    );
    for i in 0..filters {
        src.push_str(&format!(
            "action other{i}(x) {{ }}\ninterest \"t{i}\" when call(other{i}, _)\npass \"t{i}\" (msgs) {{ msgs }}\n"
        ));
    }
    src
}

fn routing(c: &mut Criterion) {
    let count = size(100_000, 2_000);
    let mut group = c.benchmark_group("routing");
    group.sample_size(10);
    group.throughput(Throughput::Elements(count as u64));
    for filters in [1, 50] {
        let src = routing_script(filters);
        group.bench_function(
            format!("{count}_unmatched_calls_with_{filters}_interests"),
            |b| {
                b.iter_batched(
                    || {
                        let (mut v, _) = Voyager::with_buffer(Config::default());
                        v.load("routing.vy", &src, None).expect("loads");
                        let messages = flat_calls(&v, count);
                        (v, messages)
                    },
                    |(mut v, messages)| {
                        for m in &messages {
                            v.engine.enqueue(m);
                        }
                        (v, messages)
                    },
                    BatchSize::PerIteration,
                )
            },
        );
    }
    let src = routing_script(1);
    group.bench_function(
        format!("{count}_writes_through_interest_and_passes_batch"),
        |b| {
            b.iter_batched(
                || {
                    let (mut v, _) = Voyager::with_buffer(Config::default());
                    v.load("routing.vy", &src, None).expect("loads");
                    let write = v.action_named("write").expect("write");
                    let messages: Vec<Msg> = (0..count)
                        .map(|i| {
                            Rc::new(Message::Call {
                                action: write.clone(),
                                args: Args::One(Value::Int(i as i64)),
                            })
                        })
                        .collect();
                    (v, messages)
                },
                |(mut v, messages)| {
                    for m in &messages {
                        v.engine.enqueue(m);
                    }
                    v.run();
                    (v, messages)
                },
                BatchSize::PerIteration,
            )
        },
    );
    group.finish();
}

/// Many short native jobs in one `conc`: a pool action that returns at
/// once, so what is timed is the engine's bookkeeping around jobs (start,
/// park, collect, wake) rather than the work itself.
fn short_jobs(c: &mut Criterion) {
    let count = size(20_000, 500);
    let mut group = c.benchmark_group("jobs");
    group.sample_size(10);
    group.throughput(Throughput::Elements(count as u64));
    group.bench_function(format!("conc_of_{count}_short_jobs"), |b| {
        b.iter_batched(
            || {
                let (mut v, _) = Voyager::with_buffer(Config::default());
                v.register_pool_action("quick", 1, |args| Ok(args[0].clone()));
                let calls: Box<[Msg]> = (0..count)
                    .map(|i| {
                        v.call_message("quick", vec![Value::Int(i as i64)])
                            .expect("quick is registered")
                    })
                    .collect();
                let m = Rc::new(Message::Void(Rc::new(Message::Conc(calls))));
                v.engine.enqueue(&m);
                v
            },
            |mut v| {
                v.run();
                assert!(v.engine.is_idle());
                v
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(engine_benches, benches, routing, short_jobs);
criterion_main!(engine_benches);

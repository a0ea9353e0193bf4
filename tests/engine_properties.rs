//! Properties of the engine over randomly generated messages:
//! normalization is idempotent and keeps every call; and every message the
//! engine accepts ends done, dead-lettered, or counted as unclaimed data.

use std::collections::BTreeMap;
use std::rc::Rc;

use voyager::engine::node::{normalize, Node};
use voyager::engine::Config;
use voyager::vm::message::{Args, Callback, Message, Msg};
use voyager::vm::value::{ActionDef, Value};
use voyager::Voyager;

mod common;
use common::Rng;

const SCRIPT: &str = r#"
let done = []
let collected = []
let tries = {}
action ok(i) { push(done, i) }
action bad(i) { fail("bad {i}") }
action flaky(i) {
  let k = str(i)
  tries[k] = get(tries, k, 0) + 1
  if tries[k] < 3 { retry("flaky {i}") }
  push(done, i)
}
action give(i) { push(done, i); data(i) }
action collect(values) { for v in values { push(collected, v) } }
"#;

struct Gen<'a> {
    rng: Rng,
    next_id: i64,
    actions: &'a BTreeMap<&'static str, Rc<ActionDef>>,
    data_made: i64,
}

impl Gen<'_> {
    fn call(&mut self, name: &str) -> Msg {
        self.next_id += 1;
        Rc::new(Message::Call {
            action: self.actions[name].clone(),
            args: Args::One(Value::Int(self.next_id)),
        })
    }

    fn message(&mut self, depth: u32) -> Msg {
        let leaf = depth == 0 || self.rng.below(3) == 0;
        if leaf {
            return match self.rng.below(10) {
                0 => self.call("bad"),
                1 => self.call("flaky"),
                2 => self.call("give"),
                3 => {
                    self.data_made += 1;
                    Rc::new(Message::Data(Value::Int(-1)))
                }
                4 => Rc::new(Message::Delay(self.rng.below(3) as i64 * 100)),
                5 => Rc::new(Message::Noop),
                _ => self.call("ok"),
            };
        }
        let n = self.rng.below(4);
        let items: Box<[Msg]> = (0..n).map(|_| self.message(depth - 1)).collect();
        match self.rng.below(5) {
            0 => Rc::new(Message::Seq(items)),
            1 => Rc::new(Message::Conc(items)),
            2 => Rc::new(Message::Promise {
                items,
                callback: Callback::Action(self.actions["collect"].clone()),
            }),
            3 => {
                // void only around calls: the data it drops is then never made.
                let inner = self.call("ok");
                Rc::new(Message::Void(inner))
            }
            _ => Rc::new(Message::Seq(items)),
        }
    }
}

fn actions(v: &Voyager) -> BTreeMap<&'static str, Rc<ActionDef>> {
    ["ok", "bad", "flaky", "give", "collect"]
        .into_iter()
        .map(|n| (n, v.action_named(n).expect("declared")))
        .collect()
}

/// Every call id in a message, with repeats.
fn call_ids(m: &Message, out: &mut Vec<i64>) {
    match m {
        Message::Call { action, args } if &*action.name != "collect" => {
            if let Some(Value::Int(i)) = args.first() {
                out.push(*i);
            }
        }
        Message::Seq(items) | Message::Conc(items) | Message::Promise { items, .. } => {
            items.iter().for_each(|i| call_ids(i, out))
        }
        Message::Void(inner) => call_ids(inner, out),
        _ => {}
    }
}

fn data_count(m: &Message) -> usize {
    match m {
        Message::Data(_) => 1,
        Message::Seq(items) | Message::Conc(items) | Message::Promise { items, .. } => {
            items.iter().map(|i| data_count(i)).sum()
        }
        Message::Void(inner) => data_count(inner),
        _ => 0,
    }
}

fn shown(nodes: &[Node]) -> Vec<String> {
    nodes.iter().map(|n| n.to_message().display()).collect()
}

#[test]
fn normalization_is_idempotent_and_keeps_every_call() {
    let (mut v, _) = Voyager::with_buffer(Config::default());
    v.load("accounting.vy", SCRIPT, None).expect("loads");
    let actions = actions(&v);
    let mut gen = Gen {
        rng: Rng(0xDEC0DE),
        next_id: 0,
        actions: &actions,
        data_made: 0,
    };
    for _ in 0..2_000 {
        let m = gen.message(5);
        let mut once = Vec::new();
        normalize(&m, &mut once);
        // Idempotent: each resulting message normalizes to itself.
        for node in &once {
            let again_msg = Rc::new(node.to_message());
            let mut again = Vec::new();
            normalize(&again_msg, &mut again);
            assert_eq!(
                shown(&again),
                shown(std::slice::from_ref(node)),
                "from {}",
                m.display()
            );
        }
        // The multiset of calls is kept.
        let mut before = Vec::new();
        call_ids(&m, &mut before);
        let mut after = Vec::new();
        for node in &once {
            call_ids(&node.to_message(), &mut after);
        }
        before.sort();
        after.sort();
        assert_eq!(before, after, "calls changed normalizing {}", m.display());
    }
}

#[test]
fn normalization_cases() {
    let src = r#"
action a() { }
action b() { }
action done(values) { }
let cases = [
  seq([seq([call(a), call(b)]), call(a)]),
  seq([data(1), data(2), call(a), data(3)]),
  conc([data(1), call(a), conc([call(b), data(2)])]),
  seq([call(a)]),
  conc([noop, call(b)]),
  seq([]),
  conc([]),
  void(seq([data(1), call(a)])),
  void(data(1)),
  promise([seq([data(1), call(a)]), noop], done),
]
"#;
    // What each case normalizes to (` | ` between separate messages).
    let expected = [
        "seq([call(a), call(b), call(a)])",
        "data(1) | data(2) | seq([call(a), data(3)])",
        "data(1) | data(2) | conc([call(a), call(b)])",
        "call(a)",
        "call(b)",
        "",
        "",
        "void(call(a))",
        "",
        "promise([data(1), call(a)], done)",
    ];
    let (mut v, _) = Voyager::with_buffer(Config::default());
    v.load("cases.vy", src, None).expect("loads");
    let slot = v.globals().lookup("cases").expect("cases").slot as usize;
    let cases = match &v.engine.vm.globals[slot] {
        Value::List(items) => items.borrow().clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(cases.len(), expected.len());
    for (case, want) in cases.iter().zip(expected) {
        let Value::Message(m) = case else {
            panic!("not a message")
        };
        let mut nodes = Vec::new();
        normalize(m, &mut nodes);
        assert_eq!(
            shown(&nodes).join(" | "),
            want,
            "normalizing {}",
            m.display()
        );
    }
}

#[test]
fn every_message_ends_done_dead_or_unclaimed() {
    for seed in 1..=60u64 {
        let (mut v, _) = Voyager::with_buffer(Config::default());
        v.load("accounting.vy", SCRIPT, None).expect("loads");
        let actions = actions(&v);
        let mut gen = Gen {
            rng: Rng(seed * 7919),
            next_id: 0,
            actions: &actions,
            data_made: 0,
        };
        let roots: Vec<Msg> = (0..20).map(|_| gen.message(4)).collect();
        let mut all_ids = Vec::new();
        let mut all_data = 0;
        for m in &roots {
            call_ids(m, &mut all_ids);
            all_data += data_count(m);
            v.engine.enqueue(m);
        }
        let finish = v.run();
        assert_eq!(finish, voyager::engine::Finish::Idle);
        let global = |name: &str| -> Vec<Value> {
            let slot = v.globals().lookup(name).expect("global").slot as usize;
            match &v.engine.vm.globals[slot] {
                Value::List(items) => items.borrow().clone(),
                other => panic!("{other:?}"),
            }
        };
        let mut ended: Vec<i64> = global("done")
            .iter()
            .map(|x| match x {
                Value::Int(i) => *i,
                other => panic!("{other:?}"),
            })
            .collect();
        let mut dead_data = 0;
        for dead in v.engine.dead_letters() {
            call_ids(&dead.message, &mut ended);
            dead_data += data_count(&dead.message);
        }
        // `bad` calls end only as dead letters; everything else once.
        ended.sort();
        all_ids.sort();
        assert_eq!(ended, all_ids, "seed {seed}: calls lost or repeated");
        // Data: `give` makes one per run; each ends collected, unclaimed or dead.
        let given = global("done")
            .iter()
            .filter(|x| {
                let Value::Int(i) = x else { return false };
                roots.iter().any(|r| {
                    let mut ids = Vec::new();
                    gives(r, &mut ids);
                    ids.contains(i)
                })
            })
            .count();
        let collected = global("collected").len();
        let unclaimed = v.engine.stats.unclaimed_data as usize;
        assert_eq!(
            all_data + given,
            collected + unclaimed + dead_data,
            "seed {seed}: data lost (made {all_data} + given {given}; collected {collected}, unclaimed {unclaimed}, dead {dead_data})"
        );
    }
}

/// Ids of `give` calls (each yields one data value when it runs).
fn gives(m: &Message, out: &mut Vec<i64>) {
    match m {
        Message::Call { action, args } if &*action.name == "give" => {
            if let Some(Value::Int(i)) = args.first() {
                out.push(*i);
            }
        }
        Message::Seq(items) | Message::Conc(items) | Message::Promise { items, .. } => {
            items.iter().for_each(|i| gives(i, out))
        }
        Message::Void(inner) => gives(inner, out),
        _ => {}
    }
}

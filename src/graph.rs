//! `voyager graph`: a script's top-level messages drawn as a flowchart
//! (Mermaid or Graphviz dot).
//!
//! The script is compiled and its top level is run with the engine not
//! started, so the picture shows the message values the script really
//! produces (after `map`, loops and functions), not its source text. The
//! `interest` and `observe` declarations, and the passes of their topics,
//! are drawn as side branches of the calls they match by action name.

use std::fmt::Write as _;
use std::path::Path;

use crate::engine::Config;
use crate::syntax::ast::{FilterKind, PatternKind, StmtKind};
use crate::vm::message::{Callback, Message, Msg};
use crate::vm::value::Value;
use crate::Voyager;

/// Lists longer than this are drawn as their first few elements, a
/// "… N more" node, and their last element.
const MAX_ITEMS: usize = 8;
/// Labels longer than this (in characters) are cut short.
const MAX_LABEL: usize = 48;
/// Messages nested deeper than this are drawn as one "…" node.
const MAX_DEPTH: usize = 32;
/// Instructions the top level may run before it is stopped.
const FUEL: u64 = 10_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Mermaid,
    Dot,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Start,
    Call,
    Data,
    Wait,
    Fork,
    Join,
    More,
    Topic,
    Pass,
}

struct Node {
    label: String,
    shape: Shape,
    group: Option<usize>,
}

struct Group {
    label: String,
    parent: Option<usize>,
}

struct Edge {
    from: usize,
    to: usize,
    label: Option<String>,
    side: bool,
}

/// A side branch: calls of `action` (any action when `None`) go to `topic`.
struct Route {
    kind: FilterKind,
    topic: String,
    action: Option<String>,
}

#[derive(Default)]
struct Graph {
    nodes: Vec<Node>,
    groups: Vec<Group>,
    edges: Vec<Edge>,
    /// The group new nodes go into.
    current: Option<usize>,
    /// Call nodes, with their action's name.
    calls: Vec<(usize, String)>,
    /// How deep in the message being drawn we are.
    depth: usize,
}

/// Why a graph could not be drawn, as text for stderr.
#[derive(Debug)]
pub struct GraphError {
    pub message: String,
    /// The script compiled, but running its top level failed.
    pub failed_to_run: bool,
}

/// The flowchart of a script's top-level messages.
pub fn graph_source(
    name: &str,
    text: &str,
    dir: Option<&Path>,
    format: Format,
    color: bool,
) -> Result<String, GraphError> {
    let (mut v, _output) = Voyager::with_buffer(Config::default());
    let units = v.compile(name, text, dir).map_err(|diags| GraphError {
        message: diags.iter().map(|d| v.render(d, color)).collect(),
        failed_to_run: false,
    })?;
    let mut messages = Vec::new();
    for unit in units {
        v.engine.vm.ensure_globals(v.globals().slots);
        for (slot, value) in unit.constants {
            v.engine.vm.globals[slot as usize] = value;
        }
        v.engine.vm.fuel_limit = Some(FUEL);
        let result = v.engine.vm.run_script(unit.script);
        let emitted = std::mem::take(&mut v.engine.vm.emitted);
        if let Err(e) = result {
            let d = crate::diag::from_runtime_error(&e, &v.sources);
            return Err(GraphError {
                message: v.render(&d, color),
                failed_to_run: true,
            });
        }
        messages.extend(emitted.into_iter().filter_map(|m| match m {
            Value::Message(m) => Some(m),
            _ => None,
        }));
    }
    let routes = routes(text);
    let mut g = Graph::default();
    let start = g.node("start", Shape::Start);
    let shown = elide(&messages);
    for item in shown {
        let (entries, _) = g.item(item);
        for entry in entries {
            g.edge(start, entry, None);
        }
    }
    g.side_branches(&routes);
    Ok(match format {
        Format::Mermaid => g.mermaid(),
        Format::Dot => g.dot(),
    })
}

/// The `interest` and `observe` declarations of the script itself.
fn routes(text: &str) -> Vec<Route> {
    let Ok(stmts) = crate::runtime::parse_source(0, text) else {
        return Vec::new();
    };
    stmts
        .iter()
        .filter_map(|s| match &s.kind {
            StmtKind::Filter(f) => match &f.pattern.kind {
                PatternKind::Call(action, _, _) => Some(Route {
                    kind: f.kind,
                    topic: f.topic.0.clone(),
                    action: action.as_ref().map(|(n, _)| n.clone()),
                }),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// One element of a list as drawn: a message, or the "… N more" of a long list.
enum Shown<'a> {
    Msg(&'a Msg),
    More(usize),
}

fn elide(items: &[Msg]) -> Vec<Shown<'_>> {
    if items.len() <= MAX_ITEMS {
        return items.iter().map(Shown::Msg).collect();
    }
    let mut shown: Vec<Shown> = items[..3].iter().map(Shown::Msg).collect();
    shown.push(Shown::More(items.len() - 4));
    shown.extend(items.last().map(Shown::Msg));
    shown
}

fn short(text: String) -> String {
    if text.chars().count() <= MAX_LABEL {
        return text;
    }
    let cut: String = text.chars().take(MAX_LABEL - 1).collect();
    format!("{cut}…")
}

fn value_label(v: &Value) -> String {
    v.repr()
}

impl Graph {
    fn node(&mut self, label: &str, shape: Shape) -> usize {
        self.nodes.push(Node {
            label: short(label.to_string()),
            shape,
            group: self.current,
        });
        self.nodes.len() - 1
    }

    fn edge(&mut self, from: usize, to: usize, label: Option<&str>) {
        self.edges.push(Edge {
            from,
            to,
            label: label.map(str::to_string),
            side: false,
        });
    }

    fn link(&mut self, exits: &[usize], entries: &[usize], label: Option<&str>) {
        for &from in exits {
            for &to in entries {
                self.edge(from, to, label);
            }
        }
    }

    fn item(&mut self, item: Shown) -> (Vec<usize>, Vec<usize>) {
        match item {
            Shown::Msg(m) => self.message(m),
            Shown::More(n) => {
                let node = self.node(&format!("… {n} more"), Shape::More);
                (vec![node], vec![node])
            }
        }
    }

    /// Draws a message; returns its entry and exit nodes.
    fn message(&mut self, m: &Msg) -> (Vec<usize>, Vec<usize>) {
        if self.depth >= MAX_DEPTH {
            return self.single("… nested deeper", Shape::More);
        }
        self.depth += 1;
        let ends = self.message_parts(m);
        self.depth -= 1;
        ends
    }

    fn message_parts(&mut self, m: &Msg) -> (Vec<usize>, Vec<usize>) {
        match &**m {
            Message::Call { action, args } => {
                let args: Vec<String> = args.iter().map(value_label).collect();
                let node = self.node(
                    &format!("{}({})", action.name, args.join(", ")),
                    Shape::Call,
                );
                self.calls.push((node, action.name.to_string()));
                (vec![node], vec![node])
            }
            Message::Data(v) => {
                let node = self.node(&format!("data({})", value_label(v)), Shape::Data);
                (vec![node], vec![node])
            }
            Message::Seq(items) => {
                let mut entries: Option<Vec<usize>> = None;
                let mut exits: Vec<usize> = Vec::new();
                for item in elide(items) {
                    let (inn, out) = self.item(item);
                    self.link(&exits, &inn, None);
                    entries.get_or_insert(inn);
                    exits = out;
                }
                match entries {
                    Some(entries) => (entries, exits),
                    None => self.single("seq([])", Shape::Wait),
                }
            }
            Message::Conc(items) => self.fan("conc", elide(items), None),
            Message::Promise { items, callback } => {
                let cb = match callback {
                    Callback::Action(a) => format!("{}(…, values)", a.name),
                    Callback::Call(a, args) => {
                        let mut args: Vec<String> = args.iter().map(value_label).collect();
                        args.push("values".into());
                        format!("{}({})", a.name, args.join(", "))
                    }
                };
                let name = match callback {
                    Callback::Action(a) | Callback::Call(a, _) => a.name.to_string(),
                };
                let (fork, join) = self.fan("promise", elide(items), Some("values"));
                let node = self.node(&cb, Shape::Call);
                self.calls.push((node, name));
                self.link(&join, &[node], None);
                (fork, vec![node])
            }
            Message::Defer(t) => {
                let label = format!("wait until {}", Value::Time(*t).display());
                self.single(&label, Shape::Wait)
            }
            Message::Delay(d) => {
                let label = format!("wait {}", Value::Duration(*d).display());
                self.single(&label, Shape::Wait)
            }
            Message::Void(inner) => self.grouped("void: data dropped", inner),
            Message::Timeout(d, inner) => {
                let label = format!("timeout {}", Value::Duration(*d).display());
                self.grouped(&label, inner)
            }
            Message::Wrap(wrap, inner) => {
                let label = format!("{} {}", wrap.name(), wrap.to_value().display());
                self.grouped(&label, inner)
            }
            Message::Noop => self.single("noop", Shape::Wait),
        }
    }

    fn single(&mut self, label: &str, shape: Shape) -> (Vec<usize>, Vec<usize>) {
        let node = self.node(label, shape);
        (vec![node], vec![node])
    }

    /// A fork into every item and a join after them all.
    fn fan(
        &mut self,
        name: &str,
        items: Vec<Shown>,
        label: Option<&str>,
    ) -> (Vec<usize>, Vec<usize>) {
        let fork = self.node(name, Shape::Fork);
        let mut outs = Vec::new();
        for item in items {
            let (inn, out) = self.item(item);
            self.link(&[fork], &inn, None);
            outs.push(out);
        }
        let join = self.node("all done", Shape::Join);
        for out in outs {
            self.link(&out, &[join], label);
        }
        (vec![fork], vec![join])
    }

    fn grouped(&mut self, label: &str, inner: &Msg) -> (Vec<usize>, Vec<usize>) {
        self.groups.push(Group {
            label: label.to_string(),
            parent: self.current,
        });
        let outer = self.current;
        self.current = Some(self.groups.len() - 1);
        let ends = self.message(inner);
        self.current = outer;
        ends
    }

    fn side_branches(&mut self, routes: &[Route]) {
        self.current = None;
        let mut passes: Vec<(String, usize)> = Vec::new();
        let calls = self.calls.clone();
        for route in routes {
            let matching: Vec<usize> = calls
                .iter()
                .filter(|(_, action)| route.action.as_ref().is_none_or(|a| a == action))
                .map(|&(node, _)| node)
                .collect();
            if matching.is_empty() {
                continue;
            }
            let (verb, how) = match route.kind {
                FilterKind::Interest => ("interest", "taken"),
                FilterKind::Observe => ("observe", "copied"),
            };
            let topic = self.node(&format!("{verb} \"{}\"", route.topic), Shape::Topic);
            for node in matching {
                self.edges.push(Edge {
                    from: node,
                    to: topic,
                    label: Some(how.to_string()),
                    side: true,
                });
            }
            let pass = match passes.iter().find(|(t, _)| *t == route.topic) {
                Some(&(_, pass)) => pass,
                None => {
                    let pass = self.node(&format!("pass \"{}\"", route.topic), Shape::Pass);
                    passes.push((route.topic.clone(), pass));
                    pass
                }
            };
            self.edges.push(Edge {
                from: topic,
                to: pass,
                label: None,
                side: true,
            });
        }
    }

    fn mermaid(&self) -> String {
        let mut out = String::from("flowchart TD\n");
        self.mermaid_group(None, 1, &mut out);
        for e in &self.edges {
            let arrow = match (&e.label, e.side) {
                (None, false) => "-->".to_string(),
                (None, true) => "-.->".to_string(),
                (Some(l), false) => format!("-->|{}|", mermaid_text(l)),
                (Some(l), true) => format!("-.->|{}|", mermaid_text(l)),
            };
            let _ = writeln!(out, "  n{} {arrow} n{}", e.from, e.to);
        }
        out
    }

    /// The nodes drawn directly in `group` (`None`: the top level).
    fn nodes_in(&self, group: Option<usize>) -> impl Iterator<Item = (usize, &Node)> {
        self.nodes
            .iter()
            .enumerate()
            .filter(move |(_, n)| n.group == group)
    }

    /// The groups drawn directly in `group`.
    fn groups_in(&self, group: Option<usize>) -> impl Iterator<Item = (usize, &Group)> {
        self.groups
            .iter()
            .enumerate()
            .filter(move |(_, g)| g.parent == group)
    }

    fn mermaid_group(&self, group: Option<usize>, depth: usize, out: &mut String) {
        let pad = "  ".repeat(depth);
        for (i, n) in self.nodes_in(group) {
            let text = mermaid_text(&n.label);
            let shape = match n.shape {
                Shape::Start | Shape::Join => format!("((\"{text}\"))"),
                Shape::Call => format!("[\"{text}\"]"),
                Shape::Data => format!("[/\"{text}\"/]"),
                Shape::Wait => format!("([\"{text}\"])"),
                Shape::Fork => format!("{{{{\"{text}\"}}}}"),
                Shape::More => format!("[\"{text}\"]"),
                Shape::Topic => format!("[(\"{text}\")]"),
                Shape::Pass => format!("[[\"{text}\"]]"),
            };
            let _ = writeln!(out, "{pad}n{i}{shape}");
        }
        for (i, g) in self.groups_in(group) {
            let _ = writeln!(out, "{pad}subgraph g{i} [\"{}\"]", mermaid_text(&g.label));
            self.mermaid_group(Some(i), depth + 1, out);
            let _ = writeln!(out, "{pad}end");
        }
    }

    fn dot(&self) -> String {
        let mut out = String::from(
            "digraph voyager {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\"];\n",
        );
        self.dot_group(None, 1, &mut out);
        for e in &self.edges {
            let mut attrs = Vec::new();
            if let Some(l) = &e.label {
                attrs.push(format!("label=\"{}\"", dot_text(l)));
            }
            if e.side {
                attrs.push("style=dashed".to_string());
            }
            let attrs = if attrs.is_empty() {
                String::new()
            } else {
                format!(" [{}]", attrs.join(", "))
            };
            let _ = writeln!(out, "  n{} -> n{}{attrs};", e.from, e.to);
        }
        out.push_str("}\n");
        out
    }

    fn dot_group(&self, group: Option<usize>, depth: usize, out: &mut String) {
        let pad = "  ".repeat(depth);
        for (i, n) in self.nodes_in(group) {
            let shape = match n.shape {
                Shape::Start | Shape::Join => "circle",
                Shape::Call => "box",
                Shape::Data => "parallelogram",
                Shape::Wait => "ellipse",
                Shape::Fork => "hexagon",
                Shape::More => "plaintext",
                Shape::Topic => "cylinder",
                Shape::Pass => "component",
            };
            let _ = writeln!(
                out,
                "{pad}n{i} [label=\"{}\", shape={shape}];",
                dot_text(&n.label)
            );
        }
        for (i, g) in self.groups_in(group) {
            let _ = writeln!(out, "{pad}subgraph cluster_{i} {{");
            let _ = writeln!(out, "{pad}  label=\"{}\";", dot_text(&g.label));
            let _ = writeln!(out, "{pad}  style=dashed;");
            self.dot_group(Some(i), depth + 1, out);
            let _ = writeln!(out, "{pad}}}");
        }
    }
}

/// Text inside a Mermaid `"…"` label: quotes and the characters Mermaid
/// reads as markup become entity codes.
fn mermaid_text(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '|' => out.push_str("#124;"),
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text inside a dot `"…"` string.
fn dot_text(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

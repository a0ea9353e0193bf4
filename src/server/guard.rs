//! What a request may not reach: a native action that `--allow-native`
//! does not allow, or a prelude function that reads the server's
//! environment or command line. A request's message is looked through
//! deep: its calls and arguments, lists, records and messages inside
//! them, and every function value in it (arguments, callbacks, handlers):
//! a function's code is read for the globals it uses (their values are
//! looked through in turn, functions in them included) and the natives it
//! names, and the cells it captured are looked through. A script's own
//! action is where this stops: calling it is what a request may do.

use std::collections::HashSet;
use std::rc::Rc;

use crate::bytecode::chunk::FnProto;
use crate::bytecode::constant::Const;
use crate::bytecode::opcode::Op;
use crate::vm::message::{Message, Msg};
use crate::vm::value::{ActionBody, ActionDef, Closure, Value};

/// Prelude functions that read the server's environment variables or its
/// command line: a request may not use them, nor hand them on.
pub const PRIVATE: [&str; 4] = ["env", "args", "param", "flag"];

/// How deep a request's values are looked through; deeper is refused.
pub const MAX_DEPTH: usize = 200;

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A native action not allowed.
    Native(Rc<str>),
    /// `env`, `args`, `param` or `flag`.
    Private(&'static str),
    /// Nested deeper than [`MAX_DEPTH`]: not looked through, so refused.
    Deep,
}

/// One look through a request's values: the globals (read where a
/// function's code uses them), the allowed natives, and what was seen
/// already (a value shared, or a function that calls itself, is looked at
/// once).
pub struct Guard<'a> {
    pub globals: &'a [Value],
    pub allow_native: &'a [String],
    seen: HashSet<*const ()>,
}

/// An action a request may not reach: native (a command, a file, a
/// request) and not allowed by `--allow-native`.
pub fn refused_action(action: &ActionDef, allow_native: &[String]) -> bool {
    let native = match &action.body {
        ActionBody::Script(_) => false,
        ActionBody::Host { .. } | ActionBody::Job(_) => true,
    };
    native && !allow_native.iter().any(|a| **a == *action.name)
}

impl<'a> Guard<'a> {
    pub fn new(globals: &'a [Value], allow_native: &'a [String]) -> Guard<'a> {
        Guard {
            globals,
            allow_native,
            seen: HashSet::new(),
        }
    }

    /// Whether `ptr` was looked at already (and now is).
    fn again<T: ?Sized>(&mut self, ptr: *const T) -> bool {
        !self.seen.insert(ptr.cast::<()>())
    }

    /// The first refusal in a value, if any.
    pub fn value(&mut self, value: &Value, depth: usize) -> Option<Refusal> {
        if depth > MAX_DEPTH {
            return Some(Refusal::Deep);
        }
        match value {
            Value::Action(a) => {
                refused_action(a, self.allow_native).then(|| Refusal::Native(a.name.clone()))
            }
            Value::Message(m) => self.message(m, depth + 1),
            Value::List(items) => {
                if self.again(Rc::as_ptr(items)) {
                    return None;
                }
                let items = items.borrow();
                items.iter().find_map(|v| self.value(v, depth + 1))
            }
            Value::Record(fields) => {
                if self.again(Rc::as_ptr(fields)) {
                    return None;
                }
                let fields = fields.borrow();
                fields.values().find_map(|v| self.value(v, depth + 1))
            }
            Value::Func(f) => self.closure(f, depth + 1),
            Value::Native(n) => PRIVATE
                .iter()
                .find(|p| **p == n.name)
                .map(|p| Refusal::Private(p)),
            Value::Cell(c) => {
                if self.again(Rc::as_ptr(c)) {
                    return None;
                }
                let inner = c.borrow().clone();
                self.value(&inner, depth + 1)
            }
            _ => None,
        }
    }

    /// The first refusal in a message, if any.
    pub fn message(&mut self, m: &Message, depth: usize) -> Option<Refusal> {
        if depth > MAX_DEPTH {
            return Some(Refusal::Deep);
        }
        match m {
            Message::Call { action, args } => {
                if refused_action(action, self.allow_native) {
                    return Some(Refusal::Native(action.name.clone()));
                }
                args.iter().find_map(|a| self.value(a, depth + 1))
            }
            Message::Data(v) => self.value(v, depth + 1),
            Message::Seq(items) | Message::Conc(items) => self.all(items, depth),
            Message::Promise { items, callback } => self
                .value(&callback.to_value(), depth + 1)
                .or_else(|| self.all(items, depth)),
            Message::Void(inner) | Message::Timeout(_, inner) => self.message(inner, depth + 1),
            // A handler, cleanup or continuation may name an action too.
            Message::Wrap(wrap, inner) => self
                .value(&wrap.to_value(), depth + 1)
                .or_else(|| self.message(inner, depth + 1)),
            Message::Defer(_) | Message::Delay(_) | Message::Noop => None,
        }
    }

    fn all(&mut self, items: &[Msg], depth: usize) -> Option<Refusal> {
        items.iter().find_map(|i| self.message(i, depth + 1))
    }

    /// A function value: what it captured, and what its code reads.
    fn closure(&mut self, f: &Rc<Closure>, depth: usize) -> Option<Refusal> {
        if self.again(Rc::as_ptr(f)) {
            return None;
        }
        for cell in f.captures.iter() {
            let inner = cell.borrow().clone();
            if let Some(r) = self.value(&inner, depth + 1) {
                return Some(r);
            }
        }
        self.proto(&f.proto, depth)
    }

    /// A function's code (and the functions nested in it): the natives it
    /// names, and the values of the globals it reads.
    fn proto(&mut self, proto: &Rc<FnProto>, depth: usize) -> Option<Refusal> {
        if depth > MAX_DEPTH {
            return Some(Refusal::Deep);
        }
        if self.again(Rc::as_ptr(proto)) {
            return None;
        }
        let chunk = &proto.chunk;
        for c in &chunk.consts {
            if let Const::Native { name, .. } = c {
                if let Some(p) = PRIVATE.iter().find(|p| **p == *name) {
                    return Some(Refusal::Private(p));
                }
            }
        }
        let mut at = 0;
        while at < chunk.code.len() {
            let op = chunk.code[at];
            let size = Op::SIZES[op as usize] as usize;
            if size == 0 {
                // Not an opcode: code this guard cannot read is refused.
                return Some(Refusal::Deep);
            }
            if op == Op::GetGlobal as u8 && at + 3 <= chunk.code.len() {
                let slot = chunk.read_u16(at + 1) as usize;
                if let Some(v) = self.globals.get(slot) {
                    let v = v.clone();
                    if let Some(r) = self.value(&v, depth + 1) {
                        return Some(r);
                    }
                }
            }
            at += size;
        }
        chunk.protos.iter().find_map(|p| self.proto(p, depth + 1))
    }
}

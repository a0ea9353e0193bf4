//! The interpreter: runs function, action and pass bodies over one value
//! stack and a frame stack. Voyager calls never recurse natively, so deep
//! recursion in a script is a runtime error, not a crash.

use std::cell::RefCell;
use std::rc::Rc;

use super::error::{codes, Loc, RuntimeError, TraceFrame};
use super::message::Message;
use super::natives::{compare, Host, TRY_CALL};
use super::pattern::matches;
use super::value::{ActionBody, ActionDef, Closure, Value};
use crate::bytecode::chunk::FnProto;
use crate::bytecode::constant::Const;
use crate::bytecode::opcode::Op;

mod cold;
mod ops;

pub(crate) use ops::memory_error;
use ops::{arith, field_get, index_get, index_set, ordering, overflow, range_bound_error};

/// How many calls may be active at once before the script gets a
/// "stack overflow" error.
pub const MAX_FRAMES: usize = 10_000;

/// An active call. Its closure is the `Value::Func` in the stack slot just
/// below `base` (the callee's slot), so a frame only points at it: a call
/// makes no reference-count traffic for its frame. Code offsets are `u32`
/// already; the value stack never holds 2^32 values.
#[derive(Clone, Copy)]
struct Frame {
    ip: u32,
    /// Stack index of local slot 0 (the callee sits just below).
    base: u32,
    /// The running closure, which the `Rc` in the callee's slot owns while
    /// the frame runs: a RETURN finds its caller's here, without reading
    /// the caller's callee slot.
    closure: *const Closure,
}

impl Frame {
    fn new(base: usize, closure: &Rc<Closure>) -> Frame {
        Frame {
            ip: 0,
            base: base as u32,
            closure: Rc::as_ptr(closure),
        }
    }

    fn ip(self) -> usize {
        self.ip as usize
    }

    fn base(self) -> usize {
        self.base as usize
    }
}

pub struct Vm {
    pub globals: Vec<Value>,
    stack: Vec<Value>,
    frames: Vec<Frame>,
    /// Messages that top-level expression statements produced, in order.
    pub emitted: Vec<Value>,
    pub host: Box<dyn Host>,
    /// Backward jumps and calls one top-level call (an action, a pass, a
    /// script) may make before it is stopped (`None`: no limit). Guards
    /// against a runaway loop inside one action.
    pub fuel_limit: Option<u64>,
    fuel: u64,
    /// Set from outside (Ctrl-C in the REPL) to stop the running code.
    pub interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Set when the interrupt stopped running code (cleared by whoever
    /// looks: the engine, before each stored step).
    pub cut: bool,
}

impl Vm {
    pub fn new(host: Box<dyn Host>) -> Vm {
        Vm {
            globals: Vec::new(),
            stack: Vec::with_capacity(256),
            // Room for the deepest stack of frames at once (160 KiB of
            // address space, touched as it is used), so that a CALL, which
            // checks the depth anyway, need not check for room.
            frames: Vec::with_capacity(MAX_FRAMES + 1),
            emitted: Vec::new(),
            host,
            fuel_limit: None,
            fuel: u64::MAX,
            interrupt: None,
            cut: false,
        }
    }

    pub fn ensure_globals(&mut self, n: usize) {
        if self.globals.len() < n {
            self.globals.resize(n, Value::Nil);
        }
    }

    /// Runs a unit's top-level code.
    pub fn run_script(&mut self, proto: Rc<FnProto>) -> Result<Value, RuntimeError> {
        self.call(&Value::Func(Closure::plain(proto)), &[])
    }

    /// Calls a function or an action's body with arguments, to completion.
    pub fn call(&mut self, callee: &Value, args: &[Value]) -> Result<Value, RuntimeError> {
        let stop_at = self.frames.len();
        let stack_at = self.stack.len();
        if stop_at == 0 {
            self.fuel = self.fuel_limit.unwrap_or(u64::MAX);
        }
        self.stack.push(callee.clone());
        self.stack.extend_from_slice(args);
        let result = match self.call_value(args.len(), None) {
            Ok(true) => self.execute(stop_at),
            Ok(false) => Ok(self.stack.pop().unwrap_or_default()),
            Err(mut e) => {
                // Refused before it ran (wrong arity): point at the declaration.
                if let (None, Value::Func(f)) = (e.loc, callee) {
                    e.loc = Some(Loc {
                        source: f.proto.source,
                        span: f.proto.span,
                    });
                }
                Err(e)
            }
        };
        if result.is_err() {
            self.frames.truncate(stop_at);
        }
        self.stack.truncate(stack_at);
        result
    }

    /// Calls an action's body (an action is not a callable value in scripts).
    pub fn call_action(
        &mut self,
        action: &ActionDef,
        args: &[Value],
    ) -> Result<Value, RuntimeError> {
        let stop_at = self.frames.len();
        let stack_at = self.stack.len();
        if stop_at == 0 {
            self.fuel = self.fuel_limit.unwrap_or(u64::MAX);
        }
        // Queued work grows memory too (an action that returns two copies
        // of itself): past the limit, every call fails until it is freed.
        if crate::memory::exceeded(0) {
            return Err(memory_error());
        }
        let body = match &action.body {
            ActionBody::Script(body) if body.proto.arity == args.len() => body,
            ActionBody::Host { arity, func } if *arity == args.len() => return func(args),
            // The engine hands these to its worker pool; nothing else runs them.
            ActionBody::Job(_) => {
                return Err(RuntimeError::type_error(format!(
                    "`{}` runs as a job on the engine's worker pool, not on the interpreter",
                    action.name
                )))
            }
            _ => return Err(call_arity_error(action, args.len())),
        };
        if self.frames.len() >= MAX_FRAMES {
            return Err(stack_overflow());
        }
        // The callee's slot holds the body, as for any call.
        self.stack.push(Value::Func(body.clone()));
        for arg in args {
            self.stack.push(dup(arg));
        }
        self.make_room(stack_at + 1 + body.proto.chunk.max_stack);
        self.frames.push(Frame::new(stack_at + 1, body));
        let result = self.execute(stop_at);
        if result.is_err() {
            // A return leaves the stack as it found it; an error does not.
            self.frames.truncate(stop_at);
            self.stack.truncate(stack_at);
        }
        result
    }

    /// Sets up a call of the callee below `argc` arguments on the stack.
    /// Returns `Ok(true)` if a frame was pushed, `Ok(false)` if a native ran
    /// and its result replaced the callee.
    fn call_value(&mut self, argc: usize, caller_ip: Option<usize>) -> Result<bool, RuntimeError> {
        let callee_at = self.stack.len() - argc - 1;
        match &self.stack[callee_at] {
            Value::Func(closure) => {
                let arity = closure.proto.arity;
                if argc != arity {
                    // The error points at this call; the declaration is
                    // the second place.
                    return Err(RuntimeError::arity(&closure.proto.name, arity, arity, argc)
                        .label(format!(
                            "{argc} argument{}",
                            if argc == 1 { "" } else { "s" }
                        ))
                        .also(
                            Loc {
                                source: closure.proto.source,
                                span: closure.proto.span,
                            },
                            format!("`{}` is declared here", closure.proto.name),
                        ));
                }
                if self.frames.len() >= MAX_FRAMES {
                    return Err(stack_overflow());
                }
                if let Some(ip) = caller_ip {
                    if let Some(frame) = self.frames.last_mut() {
                        frame.ip = ip as u32;
                    }
                }
                let frame = Frame::new(callee_at + 1, closure);
                let need = callee_at + 1 + closure.proto.chunk.max_stack;
                self.make_room(need);
                self.frames.push(frame);
                Ok(true)
            }
            Value::HostFn(f) => {
                let f = f.clone();
                if argc < f.min || argc > f.max {
                    return Err(RuntimeError::arity(&f.name, f.min, f.max, argc));
                }
                let result = (f.func)(&self.stack[callee_at + 1..])?;
                self.truncate_stack(callee_at);
                self.stack.push(result);
                Ok(false)
            }
            Value::Native(native) => {
                let native = *native;
                if argc < native.min || argc > native.max {
                    return Err(RuntimeError::arity(
                        native.name,
                        native.min,
                        native.max,
                        argc,
                    ));
                }
                if std::ptr::fn_addr_eq(native.func, TRY_CALL) {
                    return self.try_call(callee_at);
                }
                let result = (native.func)(&mut *self.host, &self.stack[callee_at + 1..])?;
                self.truncate_stack(callee_at);
                self.stack.push(result);
                Ok(false)
            }
            Value::Action(a) => Err(RuntimeError::new(
                codes::NOT_CALLABLE,
                format!("`{}` is an action: it runs through a message", a.name),
            )
            .with_hint(format!("make the message with `call({}, …)`", a.name))),
            other => Err(RuntimeError::new(
                codes::NOT_CALLABLE,
                format!("{} `{}` is not a function", other.type_name(), other.repr()),
            )),
        }
    }

    /// `try_call(f, args…)`: calls `f`, and a runtime error it raises
    /// becomes a value instead of unwinding further.
    #[cold]
    fn try_call(&mut self, callee_at: usize) -> Result<bool, RuntimeError> {
        let args = self.stack[callee_at + 2..].to_vec();
        let f = self.stack[callee_at + 1].clone();
        let result = self.call(&f, &args);
        if let Err(e) = &result {
            if crate::vm::natives::uncatchable(e) {
                return result.map(|_| false);
            }
        }
        self.truncate_stack(callee_at);
        self.stack.push(crate::vm::natives::try_result(result));
        Ok(false)
    }

    /// The closure of the frame whose locals start at `base`: the callee's
    /// slot just below them holds it while the frame runs.
    fn closure_at(&self, base: usize) -> &Rc<Closure> {
        match &self.stack[base - 1] {
            Value::Func(closure) => closure,
            _ => unreachable!("a frame's callee slot holds its closure"),
        }
    }

    /// The runtime error with its place and the call-stack trace filled in.
    fn locate(&self, mut e: RuntimeError, op_ip: usize) -> RuntimeError {
        let mut trace = Vec::new();
        for (i, frame) in self.frames.iter().rev().enumerate() {
            let proto = &self.closure_at(frame.base()).proto;
            let at = if i == 0 {
                op_ip
            } else {
                frame.ip().saturating_sub(1)
            };
            trace.push(TraceFrame {
                name: display_name(proto),
                loc: Loc {
                    source: proto.source,
                    span: proto.chunk.span_at(at),
                },
            });
        }
        if e.loc.is_none() {
            e.loc = trace.first().map(|f| f.loc);
        }
        if e.trace.is_empty() {
            e.trace = trace;
        }
        e
    }

    #[inline(never)]
    fn poll(&mut self) -> Result<(), RuntimeError> {
        if let Some(flag) = &self.interrupt {
            if flag.load(std::sync::atomic::Ordering::Relaxed) {
                self.cut = true;
                return Err(RuntimeError::new(
                    codes::INTERRUPTED,
                    "interrupted (Ctrl-C)",
                ));
            }
        }
        if crate::memory::exceeded(0) {
            return Err(memory_error());
        }
        if self.fuel == 0 {
            return Err(RuntimeError::new(
                codes::MAX_STEPS,
                "instruction budget used up (a runaway loop?)",
            )
            .with_hint("raise --max-instructions, or look for a loop that never ends"));
        }
        Ok(())
    }

    fn execute(&mut self, stop_at: usize) -> Result<Value, RuntimeError> {
        let mut op_ip = 0;
        match self.dispatch(stop_at, &mut op_ip) {
            Ok(v) => Ok(v),
            Err(e) => {
                let e = self.locate(e, op_ip);
                Err(e)
            }
        }
    }

    /// The hot loop. Each arm is short; the opcodes a typical action body
    /// rarely runs are in [`Vm::cold_op`], so this function stays small.
    fn dispatch(&mut self, stop_at: usize, op_ip: &mut usize) -> Result<Value, RuntimeError> {
        // The value stack's length and buffer live in locals while the
        // loop runs, so that they stay in registers: kept in the `Vec`,
        // every push and pop loaded and stored its length, and each
        // instruction waited on the store of the one before (perf: most of
        // fib's time). The loop owns the values of the first `sp` slots;
        // meanwhile the `Vec`'s own length is 0, so a panic leaks them
        // rather than dropping any twice. `sync!` hands them back before
        // anything else uses the stack, and before the loop returns. The
        // frame stack's length and the fuel likewise. (The capacities and
        // the frames' buffer, which the loop reads only at calls, stay in
        // the `Vec`s, so that fewer locals compete for registers.)
        let mut sp;
        let mut sb: *mut Value;
        let mut fp;
        let mut fuel;
        macro_rules! sync {
            () => {
                // SAFETY: the first `sp` slots hold the stack's values
                // (`sp` is at most the capacity: see `push!`), and the
                // first `fp` frames the frames (a CALL makes room first).
                unsafe {
                    self.stack.set_len(sp);
                    self.frames.set_len(fp);
                }
                self.fuel = fuel;
            };
        }
        macro_rules! take {
            () => {{
                sp = self.stack.len();
                sb = self.stack.as_mut_ptr();
                fp = self.frames.len();
                fuel = self.fuel;
                // SAFETY: 0 values are always initialized; the loop owns
                // them until `sync!`.
                unsafe {
                    self.stack.set_len(0);
                    self.frames.set_len(0);
                }
            }};
        }
        // A call that uses the stack: the stack goes back to the `Vec` for
        // it, and is taken again after (it may have grown or moved).
        macro_rules! out {
            ($e:expr) => {{
                sync!();
                let r = $e;
                take!();
                r
            }};
        }
        // An error leaves through `tri!`, which records the instruction it
        // came from (for its place and trace); the loop itself does not
        // store it on every instruction.
        macro_rules! tri {
            ($at:expr, $e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => {
                        sync!();
                        *op_ip = $at;
                        return Err(e);
                    }
                }
            };
        }
        // Slot `i` of the stack, which holds a value: `Chunk::verify`
        // checked that each instruction finds the values it takes and that
        // each local the loop touches is below the frame's height, and the
        // loop keeps `sp` at the frame's base plus that height. (Debug
        // builds, the tests', check it.)
        macro_rules! slot {
            ($i:expr) => {{
                let i: usize = $i;
                if cfg!(debug_assertions) && i >= sp {
                    sync!();
                    stack_slot_bug(i, sp);
                }
                // SAFETY: `i < sp` (above): the slot holds a value the loop
                // owns.
                unsafe { &mut *sb.add(i) }
            }};
        }
        // Pushes without a check for room: a frame is entered with room
        // for its `max_stack` values (`Vm::make_room`), which
        // `Chunk::verify` found, and the stack's capacity never shrinks.
        // The value is written straight into its slot: a value built first
        // and moved was built in a stack temporary in two narrow stores and
        // copied with one wide load, a store-forwarding stall (38% of fib's
        // cycles once).
        macro_rules! push {
            ($v:expr) => {{
                debug_assert!(sp < self.stack.capacity(), "a push past max_stack");
                // SAFETY: `sp` is below the capacity (above): the slot is
                // allocated and unused.
                unsafe { sb.add(sp).write($v) };
                sp += 1;
            }};
        }
        // Writes a scalar over slot `i`, which holds a scalar (nothing to
        // drop: an assignment would call the general drop).
        macro_rules! put {
            ($i:expr, $v:expr) => {{
                let slot = slot!($i);
                debug_assert!(slot.is_scalar(), "put! over a value to drop");
                // SAFETY: a slot the loop owns; its old value is a scalar.
                unsafe { std::ptr::write(slot, $v) };
            }};
        }
        // The top value, taken off (there is one: see `slot!`).
        macro_rules! pop {
            () => {{
                let v: *mut Value = slot!(sp - 1);
                sp -= 1;
                // SAFETY: the slot held a value, which is moved out; it no
                // longer counts.
                unsafe { v.read() }
            }};
        }
        // Drops the values above `n`: a scalar is forgotten where it lies.
        macro_rules! truncate {
            ($n:expr) => {{
                let n: usize = $n;
                while sp > n {
                    sp -= 1;
                    // SAFETY: as for `pop!`.
                    let v = unsafe { &mut *sb.add(sp) };
                    if !v.is_scalar() {
                        // SAFETY: moved out once; the slot no longer counts.
                        drop(unsafe { std::ptr::read(v) });
                    }
                }
            }};
        }
        // The running frame (the top one), read.
        macro_rules! top_frame {
            () => {{
                if fp == 0 {
                    sync!();
                    unreachable!("a frame to run");
                }
                // SAFETY: `fp > 0`: frame `fp - 1` is one the loop owns.
                unsafe { *self.frames.as_ptr().add(fp - 1) }
            }};
        }
        // Counts one backward jump or call against the budget. The
        // interrupt flag and the memory limit are looked at once every 256
        // (they are for runaway loops, which make thousands).
        macro_rules! burn {
            ($at:expr) => {{
                if fuel & 0xff == 0 {
                    // `poll` reads the fuel, nothing else of the loop's.
                    self.fuel = fuel;
                    tri!($at, self.poll());
                }
                fuel -= 1;
            }};
        }
        take!();
        let frame = top_frame!();
        let mut next = frame.closure;
        let mut ip = frame.ip();
        let mut base = frame.base();
        // The outer loop runs once per change of frame, so the inner one
        // reads its code and constants from locals.
        'frames: loop {
            // SAFETY: `next` points at the closure of the running frame,
            // which the `Value::Func` in the frame's callee slot (just below
            // `base`) owns until the frame returns: no instruction writes
            // that slot, and a stack that grows moves the `Rc`, not the
            // closure. The reference is not used after RETURN takes the
            // frame off (the loop comes round with the caller's). Borrowing
            // it, not cloning the `Rc`, saves two reference-count updates
            // per call.
            let closure: &Closure = unsafe { &*next };
            let chunk = &closure.proto.chunk;
            // The running instruction is at `pc`, a pointer into the code
            // (an offset from the code's start, kept beside it, was one
            // more register, and the start was spilled to memory and
            // loaded again at every instruction).
            let code: *const u8 = chunk.code.as_ptr();
            debug_assert!(ip < chunk.code.len(), "a frame resumes inside its code");
            // SAFETY: `ip` starts an instruction of verified code (the
            // frame's entry, or where a call left it).
            let mut pc = unsafe { code.add(ip) };
            let consts = &chunk.consts[..];
            loop {
                let at = pc;
                let byte = read_u8(at, 0);
                // SAFETY: see below; said to the optimizer, it drops the
                // jump table's range check (two instructions on every one).
                unsafe { std::hint::assert_unchecked((byte as usize) < Op::ALL.len()) };
                // SAFETY: `at` starts an instruction (see `read_u8`), and
                // `Chunk::verify` checked that each instruction starts with
                // an opcode's byte; `Op` is `repr(u8)` with the default
                // discriminants, so its values are exactly those bytes.
                let op = unsafe { std::mem::transmute::<u8, Op>(byte) };
                // Each arm moves `ip` past its instruction by its opcode's
                // size, a constant there (a table load here cost three
                // instructions on every one).
                macro_rules! step {
                    ($sized:expr) => {{
                        debug_assert_eq!(op.size(), $sized.size(), "{op:?}");
                        // SAFETY: verified code: the instruction is inside
                        // the code, and the last one does not fall through.
                        pc = unsafe { at.add(const { $sized.size() }) };
                    }};
                }
                // The fused and arithmetic instructions, one arm each (a
                // shared arm chose its operator by comparing `op` again).
                // Ints in line; everything else in `binary` and the others.
                macro_rules! arith {
                    ($checked:ident) => {{
                        step!(Op::Add);
                        if let (&Value::Int(x), &Value::Int(y)) = (&*slot!(sp - 2), &*slot!(sp - 1))
                        {
                            if let Some(v) = x.$checked(y) {
                                // Both operands are ints: nothing to drop.
                                sp -= 1;
                                put!(sp - 1, Value::Int(v));
                                continue;
                            }
                        }
                        tri!(offset(at, code), out!(self.binary(op)));
                    }};
                }
                macro_rules! compare {
                    ($cmp:tt) => {{
                        step!(Op::Lt);
                        if let (&Value::Int(x), &Value::Int(y)) =
                            (&*slot!(sp - 2), &*slot!(sp - 1))
                        {
                            sp -= 1;
                            put!(sp - 1, Value::Bool(x $cmp y));
                            continue;
                        }
                        tri!(offset(at, code), out!(self.binary(op)));
                    }};
                }
                macro_rules! arith_const {
                    ($checked:ident, $plain:expr) => {{
                        step!(Op::AddConst);
                        let y = int_konst(consts, read_u16(at, 1));
                        if let Value::Int(x) = slot!(sp - 1) {
                            if let Some(v) = x.$checked(y) {
                                *x = v;
                                continue;
                            }
                        }
                        let k = konst(consts, read_u16(at, 1));
                        tri!(
                            offset(at, code),
                            out!({
                                self.stack.push(Value::of_const(k));
                                self.binary($plain)
                            })
                        );
                    }};
                }
                macro_rules! compare_jump {
                    ($cmp:tt, $plain:expr) => {{
                        step!(Op::LtJump);
                        let ints = match (&*slot!(sp - 2), &*slot!(sp - 1)) {
                            (&Value::Int(x), &Value::Int(y)) => Some((x, y)),
                            _ => None,
                        };
                        let holds = if let Some((x, y)) = ints {
                            // Both operands are ints: nothing to drop.
                            sp -= 2;
                            x $cmp y
                        } else {
                            tri!(offset(at, code), out!(self.binary($plain)));
                            let c = pop!();
                            let holds = c.is_truthy();
                            discard(c);
                            holds
                        };
                        if !holds {
                            pc = jump(code, read_u32(at, 1));
                        }
                    }};
                }
                macro_rules! local_arith_const {
                    ($checked:ident) => {{
                        step!(Op::LocalAddConst);
                        let slot = base + read_u16(at, 1) as usize;
                        let y = int_konst(consts, read_u16(at, 3));
                        if let Value::Int(x) = *slot!(slot) {
                            if let Some(v) = x.$checked(y) {
                                push!(Value::Int(v));
                                continue;
                            }
                        }
                        let k = konst(consts, read_u16(at, 3));
                        tri!(offset(at, code), out!(self.local_arith_const(op, slot, k)));
                    }};
                }
                macro_rules! compare_jump_local {
                    ($cmp:tt) => {{
                        step!(Op::LtJumpLocal);
                        let slot = base + read_u16(at, 1) as usize;
                        let y = int_konst(consts, read_u16(at, 3));
                        let holds = if let Value::Int(x) = *slot!(slot) {
                            x $cmp y
                        } else {
                            let k = konst(consts, read_u16(at, 3));
                            tri!(offset(at, code), out!(self.compare_local_const(op, slot, k)))
                        };
                        if !holds {
                            pc = jump(code, read_u32(at, 5));
                        }
                    }};
                }
                match op {
                    Op::Const => {
                        step!(Op::Const);
                        match *konst(consts, read_u16(at, 1)) {
                            Const::Int(n) => push!(Value::Int(n)),
                            // The callee of most native calls (`push(…)`).
                            Const::Native { index, .. } => {
                                push!(Value::Native(&super::natives::NATIVES[index as usize]))
                            }
                            ref k => out!(self.push_const(k)),
                        }
                    }
                    Op::Nil => {
                        step!(Op::Nil);
                        push!(Value::Nil);
                    }
                    Op::True => {
                        step!(Op::True);
                        push!(Value::Bool(true));
                    }
                    Op::False => {
                        step!(Op::False);
                        push!(Value::Bool(false));
                    }
                    Op::Pop => {
                        step!(Op::Pop);
                        truncate!(sp.saturating_sub(1));
                    }
                    Op::PopN => {
                        step!(Op::PopN);
                        let n = sp.saturating_sub(read_u16(at, 1) as usize);
                        debug_assert!(n >= base, "POP_N below the frame's locals");
                        truncate!(n);
                    }
                    Op::GetLocal => {
                        step!(Op::GetLocal);
                        let slot = base + read_u16(at, 1) as usize;
                        // Ints are most locals: written straight into the
                        // new slot; the rest out of line, so that no
                        // arm builds its value in a shared temporary.
                        if let Value::Int(n) = *slot!(slot) {
                            push!(Value::Int(n));
                        } else {
                            out!(self.push_local(slot));
                        }
                    }
                    Op::SetLocal => {
                        step!(Op::SetLocal);
                        let v = pop!();
                        *slot!(base + read_u16(at, 1) as usize) = v;
                    }
                    Op::GetGlobal => {
                        step!(Op::GetGlobal);
                        // A function (the callee of most calls), an int, a
                        // list or an action (`call(inc, i)`) in line, the
                        // rest out of line (see GET_LOCAL). (The rest copied
                        // out of line instead, by `dup`, cost W1 4%: its
                        // match jumps through a table, and W1's globals
                        // alternate between a list and an action.)
                        match &self.globals[read_u16(at, 1) as usize] {
                            Value::Func(f) => {
                                let f = Rc::clone(f);
                                push!(Value::Func(f));
                            }
                            &Value::Int(n) => push!(Value::Int(n)),
                            Value::List(l) => {
                                let l = Rc::clone(l);
                                push!(Value::List(l));
                            }
                            Value::Action(a) => {
                                let a = Rc::clone(a);
                                push!(Value::Action(a));
                            }
                            _ => out!(self.push_global(read_u16(at, 1) as usize)),
                        }
                    }
                    Op::SetGlobal => {
                        step!(Op::SetGlobal);
                        let v = pop!();
                        discard(std::mem::replace(
                            &mut self.globals[read_u16(at, 1) as usize],
                            v,
                        ));
                    }
                    Op::Add => arith!(checked_add),
                    Op::Sub => arith!(checked_sub),
                    Op::Mul => arith!(checked_mul),
                    Op::Lt => compare!(<),
                    Op::Le => compare!(<=),
                    Op::Gt => compare!(>),
                    Op::Ge => compare!(>=),
                    Op::AddConst => arith_const!(checked_add, Op::Add),
                    Op::SubConst => arith_const!(checked_sub, Op::Sub),
                    Op::LtJump => compare_jump!(<, Op::Lt),
                    Op::LeJump => compare_jump!(<=, Op::Le),
                    Op::GtJump => compare_jump!(>, Op::Gt),
                    Op::GeJump => compare_jump!(>=, Op::Ge),
                    Op::LocalAddConst => local_arith_const!(checked_add),
                    Op::LocalSubConst => local_arith_const!(checked_sub),
                    Op::LtJumpLocal => compare_jump_local!(<),
                    Op::LeJumpLocal => compare_jump_local!(<=),
                    Op::GtJumpLocal => compare_jump_local!(>),
                    Op::GeJumpLocal => compare_jump_local!(>=),
                    Op::Jump => {
                        step!(Op::Jump);
                        let target = jump(code, read_u32(at, 1));
                        if target < pc {
                            burn!(offset(at, code));
                        }
                        pc = target;
                    }
                    Op::RangeNext => {
                        step!(Op::RangeNext);
                        let slot = base + read_u16(at, 1) as usize;
                        let end = slot!(slot + 1);
                        let end = if let Value::Int(end) = *end {
                            Some(end)
                        } else {
                            None
                        };
                        match (slot!(slot), end) {
                            (Value::Int(i), Some(end)) => {
                                if *i >= end {
                                    pc = jump(code, read_u32(at, 3));
                                } else {
                                    let v = *i;
                                    *i += 1;
                                    push!(Value::Int(v));
                                }
                            }
                            _ => {
                                sync!();
                                *op_ip = offset(at, code);
                                return Err(range_bound_error(
                                    &self.stack[slot],
                                    &self.stack[slot + 1],
                                ));
                            }
                        }
                    }
                    Op::JumpIfFalse => {
                        step!(Op::JumpIfFalse);
                        let c = pop!();
                        let holds = c.is_truthy();
                        discard(c);
                        if !holds {
                            pc = jump(code, read_u32(at, 1));
                        }
                    }
                    Op::Call => {
                        step!(Op::Call);
                        let argc = read_u16(at, 1) as usize;
                        // A script function with the right arity gets its
                        // frame here; everything else goes to `call_value`.
                        burn!(offset(at, code));
                        let callee_at = sp.wrapping_sub(argc + 1);
                        if let Value::Func(callee) = slot!(callee_at) {
                            if callee.proto.arity == argc && fp < MAX_FRAMES {
                                let frame = Frame::new(callee_at + 1, callee);
                                let need = callee_at + 1 + callee.proto.chunk.max_stack;
                                if need > self.stack.capacity() {
                                    out!(self.grow_stack(need));
                                }
                                debug_assert!(fp < self.frames.capacity(), "room for frames");
                                let fb = self.frames.as_mut_ptr();
                                // SAFETY: `0 < fp < MAX_FRAMES < capacity`
                                // (made in `Vm::new`; call_value and
                                // call_action, which push frames besides,
                                // stop at MAX_FRAMES too, and the `Vec`
                                // never shrinks): frame `fp - 1`
                                // is the caller's, slot `fp` is free.
                                unsafe {
                                    (*fb.add(fp - 1)).ip = offset(pc, code) as u32;
                                    fb.add(fp).write(frame);
                                }
                                fp += 1;
                                next = frame.closure;
                                ip = 0;
                                base = callee_at + 1;
                                continue 'frames;
                            }
                        }
                        let resume = offset(pc, code);
                        if let &mut Value::Native(native) = slot!(callee_at) {
                            if (native.min..=native.max).contains(&argc)
                                && !std::ptr::fn_addr_eq(native.func, TRY_CALL)
                            {
                                // SAFETY: the `argc` values above the callee
                                // are the loop's (see `slot!`). A native gets
                                // the host, not the machine: it cannot touch
                                // the stack while it borrows them.
                                let args = unsafe {
                                    std::slice::from_raw_parts(sb.add(callee_at + 1), argc)
                                };
                                let result = (native.func)(&mut *self.host, args);
                                let result = tri!(offset(at, code), result);
                                truncate!(callee_at);
                                // The callee's slot is free: room.
                                push!(result);
                                continue;
                            }
                        }
                        if tri!(offset(at, code), out!(self.call_value(argc, Some(resume)))) {
                            let frame = top_frame!();
                            (next, base) = (frame.closure, frame.base());
                            ip = 0;
                            continue 'frames;
                        }
                    }
                    Op::CallList => {
                        step!(Op::CallList);
                        burn!(offset(at, code));
                        let resume = offset(pc, code);
                        let entered = out!(self
                            .spread_onto_stack()
                            .and_then(|argc| self.call_value(argc, Some(resume))));
                        if tri!(offset(at, code), entered) {
                            let frame = top_frame!();
                            (next, base) = (frame.closure, frame.base());
                            ip = 0;
                            continue 'frames;
                        }
                    }
                    Op::Return | Op::ReturnLocal => {
                        // No step: the caller's `ip` is read from its frame.
                        debug_assert_eq!(
                            top_frame!().base(),
                            base,
                            "RETURN from the running frame"
                        );
                        fp -= 1;
                        // The result: the top (the compiler leaves it above
                        // the locals), or RETURN_LOCAL's local.
                        let result_at = match op {
                            Op::ReturnLocal => base + read_u16(at, 1) as usize,
                            _ => sp.wrapping_sub(1),
                        };
                        // (Above the locals and below the top: verified.)
                        let int = match *slot!(result_at) {
                            Value::Int(n) => Some(n),
                            _ => None,
                        };
                        if let Some(n) = int {
                            // An int result (most) is written as its payload
                            // straight into the callee's slot, and the
                            // closure there is let go of through its pointer:
                            // a value moved whole through a temporary is
                            // written in parts and read back in one wide
                            // load, a store-forwarding stall (perf: 22% of
                            // fib's cycles once).
                            truncate!(base);
                            let callee = slot!(base - 1);
                            if let Value::Func(f) = callee {
                                let f = Rc::as_ptr(f);
                                // SAFETY: the slot's `Rc` is given up: the
                                // slot is overwritten without being dropped,
                                // then the count it held is dropped once.
                                // (`closure` points at it: it is not used
                                // again before the loop takes the caller's.)
                                unsafe {
                                    std::ptr::write(callee, Value::Int(n));
                                    Rc::decrement_strong_count(f);
                                }
                            } else {
                                *callee = Value::Int(n);
                            }
                            if fp == stop_at {
                                // The callee's slot holds the int now.
                                sp = base - 1;
                                sync!();
                                return Ok(Value::Int(n));
                            }
                        } else {
                            let result = match op {
                                Op::ReturnLocal => dup(slot!(result_at)),
                                _ => pop!(),
                            };
                            truncate!(base);
                            if fp == stop_at {
                                truncate!(base - 1);
                                sync!();
                                return Ok(result);
                            }
                            *slot!(base - 1) = result;
                        }
                        let frame = top_frame!();
                        next = frame.closure;
                        ip = frame.ip();
                        base = frame.base();
                        continue 'frames;
                    }
                    // The rest, listed so that the match is exhaustive:
                    // the jump table then needs no range check, and the
                    // compiler copies the dispatch into each arm.
                    Op::Dup
                    | Op::Dup2
                    | Op::PopUnder
                    | Op::GetCell
                    | Op::SetCell
                    | Op::MakeCell
                    | Op::GetUpval
                    | Op::SetUpval
                    | Op::Closure
                    | Op::Div
                    | Op::Rem
                    | Op::Neg
                    | Op::Not
                    | Op::Eq
                    | Op::Ne
                    | Op::AndJump
                    | Op::OrJump
                    | Op::List
                    | Op::Record
                    | Op::Index
                    | Op::SetIndex
                    | Op::Field
                    | Op::SetField
                    | Op::Interp
                    | Op::IterNext
                    | Op::Match
                    | Op::NoMatch
                    | Op::Emit
                    | Op::Extend => {
                        // SAFETY: as in `step!`.
                        pc = unsafe { at.add(op.size()) };
                        let here = offset(at, code);
                        if let Some(target) = tri!(
                            offset(at, code),
                            out!(self.cold_op(op, here, closure, base))
                        ) {
                            pc = jump(code, target as u32);
                        }
                    }
                }
            }
        }
    }

    /// Makes room for a frame whose values reach up to `need` slots of the
    /// stack (its base plus its chunk's `max_stack`), before it is entered:
    /// the hot loop's pushes do not check (see `push!`).
    #[inline(always)]
    fn make_room(&mut self, need: usize) {
        if need > self.stack.capacity() {
            self.grow_stack(need);
        }
    }

    /// [`Vm::make_room`] when the stack is too small.
    #[cold]
    #[inline(never)]
    fn grow_stack(&mut self, need: usize) {
        let len = self.stack.len();
        // At least doubling, as a push would.
        self.stack.reserve((need - len).max(len).max(64));
    }

    /// Pushes `v` into room made at the frame's entry (see `push!`).
    #[inline(always)]
    fn push_in_room(&mut self, v: Value) {
        let len = self.stack.len();
        debug_assert!(len < self.stack.capacity(), "push_in_room without room");
        // SAFETY: the running frame was entered with room for its
        // `max_stack` values (see `push!`), so `len < capacity`: the slot
        // is allocated and unused, and writing it then counting it is what
        // `push` does. (No
        // fallback branch here: one that took `v` made LLVM build every
        // pushed value in a stack temporary again.)
        unsafe {
            self.stack.as_mut_ptr().add(len).write(v);
            self.stack.set_len(len + 1);
        }
    }

    /// CONST of anything but an int, into room made.
    #[inline(never)]
    fn push_const(&mut self, k: &Const) {
        let v = Value::of_const(k);
        self.push_in_room(v);
    }

    /// GET_LOCAL of anything but an int, into room made.
    #[inline(never)]
    fn push_local(&mut self, slot: usize) {
        let v = dup(&self.stack[slot]);
        self.push_in_room(v);
    }

    /// GET_GLOBAL of the kinds the loop does not copy itself, into room
    /// made.
    #[inline(never)]
    fn push_global(&mut self, index: usize) {
        let v = dup(&self.globals[index]);
        self.push_in_room(v);
    }

    /// Drops the values above `len` (cheaply when they hold nothing).
    #[inline(always)]
    fn truncate_stack(&mut self, len: usize) {
        while self.stack.len() > len {
            // Look before taking the value off: a scalar is forgotten
            // without being moved out (a move of a 16-byte enum through
            // memory, written in two parts and read in one, stalls the
            // store buffer: this loop was a third of fib's time).
            if self.stack.last().is_some_and(Value::is_scalar) {
                std::mem::forget(self.stack.pop());
            } else {
                drop(self.stack.pop());
            }
        }
    }

    /// The two operands of a binary operator popped, the result pushed.
    #[inline(never)]
    fn binary(&mut self, op: Op) -> Result<(), RuntimeError> {
        let b = self.pop();
        let a = self.pop();
        let v = match op {
            Op::Lt | Op::Le | Op::Gt | Op::Ge => Value::Bool(ordering(op, &a, &b)?),
            _ => arith(op, a, b)?,
        };
        self.stack.push(v);
        Ok(())
    }

    /// LOCAL_ADD_CONST and LOCAL_SUB_CONST on anything but ints, or on
    /// overflow, into room made: what GET_LOCAL then ADD_CONST or
    /// SUB_CONST do.
    #[cold]
    #[inline(never)]
    fn local_arith_const(&mut self, op: Op, slot: usize, k: &Const) -> Result<(), RuntimeError> {
        self.push_local(slot);
        self.stack.push(Value::of_const(k));
        self.binary(if op == Op::LocalAddConst {
            Op::Add
        } else {
            Op::Sub
        })
    }

    /// LT_JUMP_LOCAL and the others on anything but ints: what GET_LOCAL,
    /// CONST and LT_JUMP (and the others) do.
    #[cold]
    #[inline(never)]
    fn compare_local_const(
        &mut self,
        op: Op,
        slot: usize,
        k: &Const,
    ) -> Result<bool, RuntimeError> {
        let compare = match op {
            Op::LtJumpLocal => Op::Lt,
            Op::LeJumpLocal => Op::Le,
            Op::GtJumpLocal => Op::Gt,
            _ => Op::Ge,
        };
        ordering(compare, &self.stack[slot], &Value::of_const(k))
    }

    /// Replaces the list of arguments on top of the stack (CALL_LIST's) by
    /// its items; returns how many.
    fn spread_onto_stack(&mut self) -> Result<usize, RuntimeError> {
        let list = self.pop();
        let Value::List(items) = &list else {
            unreachable!("CALL_LIST's arguments are a list the compiler built")
        };
        let items = items.borrow();
        if items.len() > u16::MAX as usize {
            return Err(RuntimeError::new(
                codes::VALUE,
                format!(
                    "a call with {} arguments (spread); at most {}",
                    items.len(),
                    u16::MAX
                ),
            ));
        }
        self.stack.extend(items.iter().cloned());
        Ok(items.len())
    }

    /// The top value, taken off. The compiler balances every push with a
    /// pop, so the stack is never empty here; if a compiler bug ever made
    /// it so, the value is nil rather than a crash of the whole run (the
    /// differential and mutation tests would show the wrong output).
    fn pop(&mut self) -> Value {
        self.stack.pop().unwrap_or_default()
    }

    fn top(&self, n: usize) -> &Value {
        &self.stack[self.stack.len() - 1 - n]
    }
}

// The hot loop reads its code without bounds checks. The compiler checks
// every function's code with `Chunk::verify` before anything can run it
// (`Compiler::finish_fn`): each instruction is an opcode with its operands
// inside the code, each jump target starts an instruction, and the last
// instruction is a RETURN or a JUMP. The loop only ever reads at an
// instruction's start or inside its operands: `ip` is 0 (a function's
// first instruction; verified code is not empty), a jump target read from
// an operand, the saved `ip` of a caller (the instruction after its CALL,
// which is not the last one), or the start of the previous instruction
// plus its size (the next instruction: the previous one was not the last,
// since RETURN and JUMP do not fall through, and RETURN_LOCAL is never
// last: `Chunk::fuse_returns` makes one only of a GET_LOCAL with an
// instruction after it). The checks are debug
// assertions here.

/// The byte `n` bytes past `at`, in verified code (see above).
#[inline(always)]
fn read_u8(at: *const u8, n: usize) -> u8 {
    // SAFETY: `at + n` is inside verified code (see above).
    unsafe { *at.add(n) }
}

/// The `u16` operand `n` bytes past `at`, in verified code (see above).
#[inline(always)]
fn read_u16(at: *const u8, n: usize) -> u16 {
    // SAFETY: the operand lies inside its instruction, which lies inside
    // verified code (see above); `[u8; 2]` has no alignment.
    u16::from_le_bytes(unsafe { *(at.add(n) as *const [u8; 2]) })
}

/// The `u32` operand `n` bytes past `at`, in verified code (see above).
#[inline(always)]
fn read_u32(at: *const u8, n: usize) -> u32 {
    // SAFETY: as for `read_u16`.
    u32::from_le_bytes(unsafe { *(at.add(n) as *const [u8; 4]) })
}

/// Where a jump to `target` goes in the code that starts at `code`.
#[inline(always)]
fn jump(code: *const u8, target: u32) -> *const u8 {
    // SAFETY: `Chunk::verify` checked that every jump target (and every
    // place a cold instruction resumes at) starts an instruction.
    unsafe { code.add(target as usize) }
}

/// The offset of `at` in the code that starts at `code` (for a frame's
/// saved place and an error's).
#[inline(always)]
fn offset(at: *const u8, code: *const u8) -> usize {
    // SAFETY: both point into the same code.
    unsafe { at.offset_from(code) as usize }
}

/// Constant `i` of verified code: `Chunk::verify` checked every constant
/// operand (a `K` in the opcode table) against the pool.
#[inline(always)]
fn konst(consts: &[Const], i: u16) -> &Const {
    debug_assert!((i as usize) < consts.len(), "constant {i} past the pool");
    // SAFETY: `i` is a constant operand of verified code (see above).
    unsafe { consts.get_unchecked(i as usize) }
}

/// The int of constant `i` of verified code, where the opcode table says
/// `KInt`: `Chunk::verify` checked that the constant is an int.
#[inline(always)]
fn int_konst(consts: &[Const], i: u16) -> i64 {
    match *konst(consts, i) {
        Const::Int(n) => n,
        // SAFETY: verified (see above).
        _ => unsafe { std::hint::unreachable_unchecked() },
    }
}

/// A stack slot read past the top: only a compiler bug makes one (the
/// stack is handed back first, so the panic frees nothing twice).
#[cold]
#[inline(never)]
fn stack_slot_bug(i: usize, len: usize) -> ! {
    panic!("compiler bug: stack slot {i} read with {len} values on the stack")
}

/// A call past [`MAX_FRAMES`] deep.
fn stack_overflow() -> RuntimeError {
    RuntimeError::new(
        codes::STACK_OVERFLOW,
        format!("stack overflow: more than {MAX_FRAMES} calls deep"),
    )
    .with_hint("is a recursion missing its base case?")
}

fn display_name(proto: &FnProto) -> String {
    use crate::bytecode::chunk::FnKind;
    match proto.kind {
        FnKind::Script => "<top level>".to_string(),
        FnKind::Action => format!("action {}", proto.name),
        FnKind::Fn => format!("fn {}", proto.name),
        FnKind::Pass => proto.name.clone(),
    }
}

/// A copy of a value: scalars are copied in line, only shared values go
/// through `clone` (the hot loop copies values on most instructions).
#[inline(always)]
fn dup(v: &Value) -> Value {
    match v {
        Value::Nil => Value::Nil,
        Value::Bool(b) => Value::Bool(*b),
        Value::Int(n) => Value::Int(*n),
        Value::Float(x) => Value::Float(*x),
        other => other.clone(),
    }
}

/// A call of `action` with the wrong number of arguments (`got`): for an
/// action a script declares, the declaration is shown too.
#[cold]
fn call_arity_error(action: &ActionDef, got: usize) -> RuntimeError {
    let (min, max) = action.arity();
    let mut e = RuntimeError::arity(&action.name, min, max, got);
    // One short is how a promise's callback is written (the promise
    // appends its list), so `call` let it through; this call ran on its own.
    if got + 1 == min {
        e = e.with_hint(format!(
            "a call one argument short is a promise's callback, to which the promise appends the list it collected; on its own, `{}` needs all {min}",
            action.name
        ));
    }
    match action.declared_at() {
        Some(loc) => e.at(loc).label(format!(
            "`{}` is declared here with {min} parameter{}",
            action.name,
            if min == 1 { "" } else { "s" }
        )),
        None => e,
    }
}

/// Drops a value, in line when it holds nothing to free.
#[inline(always)]
fn discard(v: Value) {
    if v.is_scalar() {
        // Nothing to free; `forget` keeps the compiler from calling the
        // general drop.
        std::mem::forget(v);
    } else {
        drop(v);
    }
}

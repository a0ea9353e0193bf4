//! The opcodes the hot loop leaves out: building lists, records, closures
//! and messages, matching, indexing and fields, and the rarer jumps.

use super::*;

impl Vm {
    /// Every opcode the hot loop does not handle itself. Returns the jump
    /// target, for the ones that jump.
    #[inline(never)]
    pub(super) fn cold_op(
        &mut self,
        op: Op,
        at: usize,
        closure: &Closure,
        base: usize,
    ) -> Result<Option<usize>, RuntimeError> {
        let chunk = &closure.proto.chunk;
        // The first operand, for the opcodes that have one.
        let a = match op.operands() {
            [] => 0,
            _ => chunk.read_u16(at + 1) as usize,
        };
        match op {
            Op::Dup => {
                let v = self.top(0).clone();
                self.stack.push(v);
            }
            Op::Dup2 => {
                let (x, y) = (self.top(1).clone(), self.top(0).clone());
                self.stack.push(x);
                self.stack.push(y);
            }
            Op::PopUnder => {
                let top = self.pop();
                let n = self.stack.len() - a;
                debug_assert!(n >= base, "POP_UNDER below the frame's locals");
                self.stack.truncate(n);
                self.stack.push(top);
            }
            Op::GetCell => {
                let v = match &self.stack[base + a] {
                    Value::Cell(cell) => cell.borrow().clone(),
                    other => other.clone(),
                };
                self.stack.push(v);
            }
            Op::SetCell => {
                let v = self.pop();
                match &self.stack[base + a] {
                    Value::Cell(cell) => *cell.borrow_mut() = v,
                    _ => self.stack[base + a] = v,
                }
            }
            Op::MakeCell => {
                let slot = &mut self.stack[base + a];
                if !matches!(slot, Value::Cell(_)) {
                    let v = std::mem::take(slot);
                    *slot = Value::Cell(Rc::new(RefCell::new(v)));
                }
            }
            Op::GetUpval => self.stack.push(closure.captures[a].borrow().clone()),
            Op::SetUpval => {
                let v = self.pop();
                *closure.captures[a].borrow_mut() = v;
            }
            Op::Closure => {
                let proto = chunk.protos[a].clone();
                let captures = proto
                    .captures
                    .iter()
                    .map(|c| match *c {
                        crate::bytecode::chunk::Capture::Local(slot) => {
                            match &self.stack[base + slot as usize] {
                                Value::Cell(cell) => cell.clone(),
                                other => Rc::new(RefCell::new(other.clone())),
                            }
                        }
                        crate::bytecode::chunk::Capture::Upval(i) => {
                            closure.captures[i as usize].clone()
                        }
                    })
                    .collect();
                self.stack
                    .push(Value::Func(Rc::new(Closure { proto, captures })));
            }
            Op::Div | Op::Rem => self.binary(op)?,
            Op::Eq | Op::Ne => {
                let b = self.pop();
                let a = self.pop();
                self.stack.push(Value::Bool((a == b) == (op == Op::Eq)));
            }
            Op::Neg => {
                let v = match self.pop() {
                    Value::Int(n) => Value::Int(n.checked_neg().ok_or_else(overflow)?),
                    Value::Float(x) => Value::Float(-x),
                    Value::Duration(d) => Value::Duration(d.checked_neg().ok_or_else(overflow)?),
                    other => {
                        return Err(RuntimeError::type_error(format!(
                            "cannot negate {} `{}`",
                            other.type_name(),
                            other.repr()
                        )))
                    }
                };
                self.stack.push(v);
            }
            Op::Not => {
                let v = self.pop();
                self.stack.push(Value::Bool(!v.is_truthy()));
            }
            Op::AndJump => {
                if !self.top(0).is_truthy() {
                    return Ok(Some(chunk.read_u32(at + 1) as usize));
                }
                self.stack.pop();
            }
            Op::OrJump => {
                if self.top(0).is_truthy() {
                    return Ok(Some(chunk.read_u32(at + 1) as usize));
                }
                self.stack.pop();
            }
            Op::List => {
                let items = self.stack.split_off(self.stack.len() - a);
                self.stack.push(Value::list(items));
            }
            Op::Extend => {
                let ys = self.pop();
                let Value::List(ys) = &ys else {
                    return Err(RuntimeError::type_error(format!(
                        "`..` spreads a list into a call's arguments, got {} `{}`",
                        ys.type_name(),
                        ys.repr()
                    )));
                };
                let ys = ys.borrow().clone();
                if let Value::List(xs) = self.top(0) {
                    let len = xs.borrow().len() + ys.len();
                    if crate::memory::exceeded(len * std::mem::size_of::<Value>()) {
                        return Err(memory_error());
                    }
                    xs.borrow_mut().extend(ys);
                }
            }
            Op::Record => {
                let items = self.stack.split_off(self.stack.len() - 2 * a);
                let mut map = indexmap::IndexMap::with_capacity(a);
                let mut items = items.into_iter();
                // Keys are names or string literals, so always strings; a
                // key of another type is refused, never dropped.
                while let (Some(k), Some(v)) = (items.next(), items.next()) {
                    let Value::Str(k) = k else {
                        return Err(RuntimeError::type_error(format!(
                            "a record key must be a string, not {} `{}`",
                            k.type_name(),
                            k.repr()
                        )));
                    };
                    map.insert(k, v);
                }
                self.stack.push(Value::record(map));
            }
            Op::Index => {
                let index = self.pop();
                let object = self.pop();
                self.stack.push(index_get(&object, &index)?);
            }
            Op::SetIndex => {
                let value = self.pop();
                let index = self.pop();
                let object = self.pop();
                index_set(&object, index, value)?;
            }
            Op::Field => {
                let object = self.pop();
                let Const::Str(name) = &chunk.consts[a] else {
                    unreachable!("field names are string constants")
                };
                self.stack.push(field_get(&object, name)?);
            }
            Op::SetField => {
                let value = self.pop();
                let object = self.pop();
                let Const::Str(name) = &chunk.consts[a] else {
                    unreachable!("field names are string constants")
                };
                match &object {
                    Value::Record(r) => {
                        r.borrow_mut().insert(name.clone(), value);
                    }
                    other => {
                        return Err(RuntimeError::type_error(format!(
                            "cannot set field `{name}` on {} `{}`",
                            other.type_name(),
                            other.repr()
                        )))
                    }
                }
            }
            Op::Interp => {
                let parts = self.stack.split_off(self.stack.len() - a);
                let mut s = String::new();
                for part in &parts {
                    // The memory limit holds here as for `+`: a string
                    // that doubles itself by interpolation would otherwise
                    // grow past it between two polls of the limit.
                    let more = match part {
                        Value::Str(p) => p.len(),
                        _ => 0,
                    };
                    if crate::memory::exceeded(s.len() + more) {
                        return Err(super::ops::memory_error());
                    }
                    part.write_display(&mut s, false, 0);
                }
                if crate::memory::exceeded(s.len()) {
                    return Err(super::ops::memory_error());
                }
                self.stack.push(Value::str(&s));
            }
            Op::IterNext => {
                let next = match (&self.stack[base + a], &self.stack[base + a + 1]) {
                    (Value::List(list), Value::Int(i)) => list.borrow().get(*i as usize).cloned(),
                    (other, _) => {
                        return Err(RuntimeError::type_error(format!(
                            "`for` goes over a list, not {} `{}`",
                            other.type_name(),
                            other.repr()
                        ))
                        .with_hint(match other {
                            Value::Record(_) => "use keys(r) or values(r)",
                            _ => "use range(a, b) for numbers",
                        }))
                    }
                };
                let Some(item) = next else {
                    return Ok(Some(chunk.read_u32(at + 3) as usize));
                };
                if let Value::Int(i) = &mut self.stack[base + a + 1] {
                    *i += 1;
                }
                self.stack.push(item);
            }
            Op::Match => {
                let p = chunk.read_u16(at + 3) as usize;
                let scrutinee = self.stack[base + a].clone();
                let ok = matches(&scrutinee, &chunk.patterns[p], &mut self.stack[base..]);
                self.stack.push(Value::Bool(ok));
            }
            Op::NoMatch => {
                let v = &self.stack[base + a];
                return Err(RuntimeError::new(
                    codes::NO_MATCH,
                    format!("no arm of this match fits {} `{}`", v.type_name(), v.repr()),
                )
                .with_hint("add a last arm `_ => …`"));
            }
            Op::Emit => {
                let v = self.pop();
                if let Value::Message(_) = v {
                    self.emitted.push(v);
                }
            }
            Op::Const
            | Op::Nil
            | Op::True
            | Op::False
            | Op::Pop
            | Op::PopN
            | Op::GetLocal
            | Op::SetLocal
            | Op::GetGlobal
            | Op::SetGlobal
            | Op::Add
            | Op::Sub
            | Op::Mul
            | Op::AddConst
            | Op::SubConst
            | Op::LtJump
            | Op::LeJump
            | Op::GtJump
            | Op::GeJump
            | Op::Lt
            | Op::Le
            | Op::Gt
            | Op::Ge
            | Op::Jump
            | Op::JumpIfFalse
            | Op::RangeNext
            | Op::Call
            | Op::CallList
            | Op::Return
            | Op::LocalAddConst
            | Op::LocalSubConst
            | Op::LtJumpLocal
            | Op::LeJumpLocal
            | Op::GtJumpLocal
            | Op::GeJumpLocal
            | Op::ReturnLocal => unreachable!("{op:?} runs in the hot loop"),
        }
        Ok(None)
    }
}

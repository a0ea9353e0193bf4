//! Emission: appending instructions and constants to the chunk of the
//! function being compiled, tracking the stack depth, patching jumps, and
//! refusing what does not fit an operand.

use super::*;

impl Compiler<'_> {
    pub(super) fn f(&mut self) -> &mut FnState {
        self.fns.last_mut().expect("a function is being compiled")
    }

    pub(super) fn at(&self) -> usize {
        self.fns.last().map_or(0, |f| f.chunk.code.len())
    }

    /// Emits `op` with its operands, adjusting the tracked stack depth.
    pub(super) fn emit(&mut self, op: Op, span: Span, operands: &[u32], delta: isize) -> usize {
        let f = self.f();
        let at = f.chunk.emit(op, span);
        for (width, &value) in op.operands().iter().zip(operands) {
            match width {
                crate::bytecode::opcode::Width::U16
                | crate::bytecode::opcode::Width::K
                | crate::bytecode::opcode::Width::KInt => f.chunk.emit_u16(value as u16),
                crate::bytecode::opcode::Width::U32 => f.chunk.emit_u32(value),
            }
        }
        f.depth = (f.depth as isize + delta).max(0) as usize;
        at
    }

    pub(super) fn op(&mut self, op: Op, span: Span, delta: isize) {
        self.emit(op, span, &[], delta);
    }

    /// Emits a jump whose target is patched later; returns where to patch.
    pub(super) fn jump(&mut self, op: Op, span: Span, delta: isize) -> usize {
        let at = self.emit(op, span, &[0], delta);
        at + 1
    }

    pub(super) fn patch_here(&mut self, operand_at: usize) {
        let here = self.at() as u32;
        self.f().chunk.patch_u32(operand_at, here);
    }

    pub(super) fn patch_to(&mut self, operand_at: usize, target: usize) {
        self.f().chunk.patch_u32(operand_at, target as u32);
    }

    pub(super) fn constant(&mut self, value: Const, span: Span) -> u16 {
        let key = match &value {
            Const::Int(n) => Some(ConstKey::Int(*n)),
            Const::Float(x) => Some(ConstKey::Float(x.to_bits())),
            Const::Duration(d) => Some(ConstKey::Duration(*d)),
            Const::Str(s) => Some(ConstKey::Str(s.to_string())),
            Const::Native { name, .. } => Some(ConstKey::Native(name)),
            Const::Nil | Const::Bool(_) => None,
        };
        let f = self.f();
        if let Some(&index) = key.as_ref().and_then(|k| f.const_index.get(k)) {
            return index;
        }
        let index = f.chunk.consts.len();
        f.chunk.consts.push(value);
        let index = self.check_u16(index, "constants", span);
        if let Some(key) = key {
            self.f().const_index.insert(key, index);
        }
        index
    }

    pub(super) fn emit_const(&mut self, value: Const, span: Span) {
        let k = self.constant(value, span);
        self.emit(Op::Const, span, &[k as u32], 1);
    }

    pub(super) fn check_u16(&mut self, n: usize, what: &str, span: Span) -> u16 {
        match u16::try_from(n) {
            Ok(n) => n,
            Err(_) if self.too_large_reported => 0,
            Err(_) => {
                self.too_large_reported = true;
                self.error(
                    Diagnostic::error(
                        codes::TOO_LARGE,
                        format!("This function has more than 65535 {what}"),
                        self.loc(span),
                    )
                    .label("too large")
                    .hint("split it into smaller functions"),
                );
                0
            }
        }
    }

    pub(super) fn loc(&self, span: Span) -> crate::vm::error::Loc {
        loc(self.opts.source, span)
    }

    pub(super) fn error(&mut self, d: Diagnostic) {
        self.errors.push(d);
    }
}

//! Resolution: block scopes, locals, upvalues and globals, and the
//! "unknown name" diagnostic.

use super::*;

impl Compiler<'_> {
    pub(super) fn begin_scope(&mut self) {
        let n = self.f().locals.len();
        self.f().scopes.push(n);
    }

    /// Closes a scope whose block left its value on top of its locals.
    pub(super) fn end_scope_keep_top(&mut self, span: Span) {
        let start = self.f().scopes.pop().unwrap_or(0);
        let n = self.f().locals.len() - start;
        self.f().locals.truncate(start);
        if n > 0 {
            self.emit(Op::PopUnder, span, &[n as u32], -(n as isize));
        }
    }

    /// Declares the value on top of the stack as a local.
    pub(super) fn declare_local(&mut self, name: &Name) {
        let f = self.f();
        let slot = f.depth - 1;
        let cell = f.boxed_names.contains(&name.0);
        let span = name.1;
        f.locals.push(Local {
            name: name.0.clone(),
            slot: slot as u16,
            cell,
            span,
        });
        let slot = self.check_u16(slot, "locals", name.1);
        if cell {
            self.emit(Op::MakeCell, span, &[slot as u32], 0);
        }
    }

    pub(super) fn at_top_level(&self) -> bool {
        self.fns.len() == 1 && self.fns[0].scopes.is_empty()
    }

    pub(super) fn resolve(&mut self, name: &str) -> Option<Resolved> {
        let top = self.fns.len() - 1;
        if let Some(local) = self.fns[top].locals.iter().rev().find(|l| l.name == name) {
            return Some(Resolved::Local(local.slot, local.cell));
        }
        if let Some(i) = self.resolve_upval(top, name) {
            return Some(Resolved::Upval(i));
        }
        self.resolve_global(name)
    }

    pub(super) fn resolve_global(&self, name: &str) -> Option<Resolved> {
        if self.opts.module.is_some() {
            if let Some(g) = self.globals.lookup(&self.qualified(name)) {
                return Some(Resolved::Global(g.clone()));
            }
        }
        if let Some(g) = self.globals.lookup(name) {
            return Some(Resolved::Global(g.clone()));
        }
        natives::lookup(name).map(Resolved::Native)
    }

    pub(super) fn resolve_upval(&mut self, fn_index: usize, name: &str) -> Option<u16> {
        if fn_index == 0 {
            return None;
        }
        if let Some(i) = self.fns[fn_index]
            .capture_names
            .iter()
            .position(|n| n == name)
        {
            return Some(i as u16);
        }
        let enclosing = fn_index - 1;
        let capture = if let Some(local) = self.fns[enclosing]
            .locals
            .iter()
            .rev()
            .find(|l| l.name == name)
        {
            debug_assert!(local.cell, "captured local `{name}` is not in a cell");
            Capture::Local(local.slot)
        } else {
            Capture::Upval(self.resolve_upval(enclosing, name)?)
        };
        let f = &mut self.fns[fn_index];
        f.captures.push(capture);
        f.capture_names.push(name.to_string());
        Some((f.captures.len() - 1) as u16)
    }

    pub(super) fn unknown_name(&mut self, name: &str, span: Span) {
        if !self.reported.insert(span) {
            return;
        }
        let mut candidates: Vec<String> = self
            .fns
            .iter()
            .flat_map(|f| f.locals.iter().map(|l| l.name.clone()))
            .collect();
        candidates.extend(self.globals.names.keys().cloned());
        candidates.extend(self.globals.offered.iter().map(|n| n.to_string()));
        candidates.extend(natives::NATIVES.iter().map(|n| n.name.to_string()));
        let suggestion = did_you_mean(name, candidates.iter().map(String::as_str));
        let mut d = Diagnostic::error(
            codes::UNKNOWN_NAME,
            format!("I don't know the name `{name}`"),
            self.loc(span),
        )
        .label("not declared anywhere");
        d = match suggestion {
            Some(s) => d.hint(format!("did you mean `{s}`?")),
            None => d.hint(format!("declare it with `let {name} = …` first")),
        };
        self.error(d);
    }
}

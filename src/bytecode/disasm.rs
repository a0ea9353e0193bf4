//! `voyager disasm`: instructions interleaved with the source lines they
//! came from, one function after another.

use std::fmt::Write as _;

use super::chunk::{FnKind, FnProto, Pattern};
use super::constant::Const;
use super::opcode::{Op, Width};

/// Disassembles a function and, after it, every function nested in it.
/// `source` is the text the function was compiled from; `globals` names the
/// global slots, by slot (see `Globals::slot_names`), so that an access to
/// one shows its name.
pub fn disassemble(proto: &FnProto, title: &str, source: &str, globals: &[&str], out: &mut String) {
    let kind = match proto.kind {
        FnKind::Script => "script",
        FnKind::Fn => "fn",
        FnKind::Action => "action",
        FnKind::Pass => "pass",
    };
    let _ = writeln!(out, "== {kind} {title} (arity {}) ==", proto.arity);
    let chunk = &proto.chunk;
    let mut last_line = 0;
    let mut ip = 0;
    while ip < chunk.code.len() {
        let span = chunk.span_at(ip);
        let line = crate::syntax::span::line_of(source, span.start as usize);
        if line != last_line && (span.start != 0 || span.end != 0) {
            let text = source.lines().nth(line - 1).unwrap_or("").trim_end();
            let _ = writeln!(out, "{line:>6} | {text}");
            last_line = line;
        }
        let Some(op) = Op::from_byte(chunk.code[ip]) else {
            let _ = writeln!(out, "{ip:04}  <bad opcode {}>", chunk.code[ip]);
            break;
        };
        let mut operands = Vec::new();
        let mut at = ip + 1;
        for width in op.operands() {
            let value = match width {
                Width::U16 | Width::K | Width::KInt => chunk.read_u16(at) as u32,
                Width::U32 => chunk.read_u32(at),
            };
            operands.push(value);
            at += width.bytes();
        }
        let shown: Vec<String> = operands.iter().map(u32::to_string).collect();
        let _ = write!(out, "{ip:04}  {:<13} {:<10}", op.name(), shown.join(" "));
        if let Some(note) = annotate(op, &operands, proto, globals) {
            let _ = write!(out, "; {note}");
        }
        let _ = writeln!(out);
        ip = at;
    }
    for (i, nested) in chunk.protos.iter().enumerate() {
        let _ = writeln!(out);
        let parent = if proto.name.is_empty() {
            title
        } else {
            &proto.name
        };
        let name = format!("{} (#{i} in {parent})", nested.name);
        disassemble(nested, &name, source, globals, out);
    }
}

fn annotate(op: Op, operands: &[u32], proto: &FnProto, globals: &[&str]) -> Option<String> {
    let chunk = &proto.chunk;
    let first = *operands.first()? as usize;
    match op {
        Op::GetGlobal | Op::SetGlobal => globals
            .get(first)
            .filter(|name| !name.is_empty())
            .map(|name| name.to_string()),
        Op::Const | Op::AddConst | Op::SubConst | Op::Field | Op::SetField => {
            chunk.consts.get(first).map(show_const)
        }
        Op::LocalAddConst
        | Op::LocalSubConst
        | Op::LtJumpLocal
        | Op::LeJumpLocal
        | Op::GtJumpLocal
        | Op::GeJumpLocal => chunk.consts.get(operands[1] as usize).map(show_const),
        Op::Closure => chunk.protos.get(first).map(|p| format!("<fn {}>", p.name)),
        Op::Match => chunk.patterns.get(operands[1] as usize).map(show_pattern),
        _ => None,
    }
}

fn show_const(v: &Const) -> String {
    let s = v.repr();
    if s.chars().count() > 40 {
        let cut: String = s.chars().take(37).collect();
        format!("{cut}...")
    } else {
        s
    }
}

fn show_pattern(p: &Pattern) -> String {
    match p {
        Pattern::Any => "_".into(),
        Pattern::Bind(slot) => format!("${slot}"),
        Pattern::Literal(v) => v.repr(),
        Pattern::List(items, rest) => {
            let mut parts: Vec<String> = items.iter().map(show_pattern).collect();
            match rest {
                Some(Some(slot)) => parts.push(format!("..${slot}")),
                Some(None) => parts.push("..".into()),
                None => {}
            }
            format!("[{}]", parts.join(", "))
        }
        Pattern::Record(fields, open) => {
            let mut parts: Vec<String> = fields
                .iter()
                .map(|(k, p)| format!("{k}: {}", show_pattern(p)))
                .collect();
            if *open {
                parts.push("..".into());
            }
            format!("{{{}}}", parts.join(", "))
        }
        Pattern::Call(action, args, open) => {
            let mut parts = vec![action.map_or("_".to_string(), |id| format!("action#{id}"))];
            parts.extend(args.iter().map(show_pattern));
            if *open {
                parts.push("..".into());
            }
            format!("call({})", parts.join(", "))
        }
        Pattern::Message(kind, subs) => {
            let name = format!("{kind:?}").to_lowercase();
            if subs.is_empty() {
                name
            } else {
                format!(
                    "{name}({})",
                    subs.iter().map(show_pattern).collect::<Vec<_>>().join(", ")
                )
            }
        }
    }
}

//! Matching a value against a compiled pattern.

use std::rc::Rc;

use super::message::{Message, Wrap};
use super::value::Value;
use crate::bytecode::chunk::{MessagePattern, Pattern};

/// Tests `value` against `pattern`, writing bindings into `slots` (the
/// frame's locals). On failure some bindings may have been written; the
/// compiled code drops them.
pub fn matches(value: &Value, pattern: &Pattern, slots: &mut [Value]) -> bool {
    match pattern {
        Pattern::Any => true,
        Pattern::Bind(slot) => {
            slots[*slot as usize] = value.clone();
            true
        }
        Pattern::Literal(lit) => *value == Value::of_const(lit),
        Pattern::List(items, rest) => {
            let Value::List(list) = value else {
                return false;
            };
            let list = list.borrow();
            let fits = match rest {
                None => list.len() == items.len(),
                Some(_) => list.len() >= items.len(),
            };
            if !fits
                || !items
                    .iter()
                    .zip(list.iter())
                    .all(|(p, v)| matches(v, p, slots))
            {
                return false;
            }
            if let Some(Some(slot)) = rest {
                slots[*slot as usize] = Value::list(list[items.len()..].to_vec());
            }
            true
        }
        Pattern::Record(fields, open) => {
            let Value::Record(record) = value else {
                return false;
            };
            let record = record.borrow();
            (*open || record.len() == fields.len())
                && fields.iter().all(|(k, p)| match record.get(&**k) {
                    Some(v) => matches(v, p, slots),
                    None => false,
                })
        }
        Pattern::Call(action, args, open) => {
            let Value::Message(m) = value else {
                return false;
            };
            let Message::Call {
                action: a,
                args: values,
            } = &**m
            else {
                return false;
            };
            action.is_none_or(|id| id == a.id)
                && (if *open {
                    values.len() >= args.len()
                } else {
                    values.len() == args.len()
                })
                && args
                    .iter()
                    .zip(values.iter())
                    .all(|(p, v)| matches(v, p, slots))
        }
        Pattern::Message(kind, subs) => {
            let Value::Message(m) = value else {
                return false;
            };
            match_message(m, *kind, subs, slots)
        }
    }
}

fn match_message(
    m: &Rc<Message>,
    kind: MessagePattern,
    subs: &[Pattern],
    slots: &mut [Value],
) -> bool {
    let items =
        |xs: &[Rc<Message>]| Value::list(xs.iter().map(|m| Value::Message(m.clone())).collect());
    let sub = |i: usize| subs.get(i).unwrap_or(&Pattern::Any);
    match (kind, &**m) {
        (MessagePattern::Data, Message::Data(v)) => matches(v, sub(0), slots),
        (MessagePattern::Seq, Message::Seq(xs)) | (MessagePattern::Conc, Message::Conc(xs)) => {
            matches(&items(xs), sub(0), slots)
        }
        (
            MessagePattern::Promise,
            Message::Promise {
                items: xs,
                callback,
            },
        ) => matches(&items(xs), sub(0), slots) && matches(&callback.to_value(), sub(1), slots),
        (MessagePattern::Defer, Message::Defer(t)) => matches(&Value::Time(*t), sub(0), slots),
        (MessagePattern::Delay, Message::Delay(d)) => matches(&Value::Duration(*d), sub(0), slots),
        (MessagePattern::Void, Message::Void(inner)) => {
            matches(&Value::Message(inner.clone()), sub(0), slots)
        }
        (MessagePattern::Timeout, Message::Timeout(d, inner)) => {
            matches(&Value::Duration(*d), sub(0), slots)
                && matches(&Value::Message(inner.clone()), sub(1), slots)
        }
        (kind, Message::Wrap(wrap, inner)) if kind_of(wrap) == kind => {
            matches(&Value::Message(inner.clone()), sub(0), slots)
                && matches(&wrap.to_value(), sub(1), slots)
        }
        (MessagePattern::Noop, Message::Noop) => true,
        _ => false,
    }
}

fn kind_of(wrap: &Wrap) -> MessagePattern {
    match wrap {
        Wrap::Catch(_) => MessagePattern::Catch,
        Wrap::Ensure(_) => MessagePattern::Ensure,
        Wrap::Then(_) => MessagePattern::Then,
        Wrap::Retrying(_) => MessagePattern::Retrying,
    }
}

//! What a script takes: every `param`, `flag` and `env` it reads, collected
//! while compiling, and the binding of a run's words (`voyager run FILE --
//! words…`) to them before anything runs. A word that does not fit, a
//! missing required one or an unknown `--flag` is a diagnostic (E0309), so a
//! typo stops the run before its first step instead of halfway through.

use crate::bytecode::chunk::SourceId;
use crate::codes;
use crate::diag::Diagnostic;
use crate::syntax::ast::{Expr, ExprKind, UnOp};
use crate::syntax::Span;
use crate::vm::error::Loc;
use crate::vm::natives::{convert_param, ScriptArgs};
use crate::vm::value::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `param(name)`: the next positional word.
    Positional,
    /// `flag(name, true|false)`: `--name` alone.
    Switch,
    /// `flag(name)`, `flag(name, default)`: `--name VALUE`.
    Valued,
    /// `env(name)`: an environment variable.
    Env,
}

#[derive(Clone, Debug)]
pub struct Declared {
    pub name: String,
    pub kind: Kind,
    /// Read somewhere without a default.
    pub required: bool,
    /// The default, when it is a literal (its type converts the word).
    pub default: Option<Value>,
    /// The first read.
    pub loc: Loc,
}

/// Everything a program's scripts read, in the order first read.
#[derive(Clone, Debug, Default)]
pub struct ParamTable {
    pub items: Vec<Declared>,
    /// Some script calls `args()`: words beyond the `param`s are welcome.
    pub takes_args: bool,
}

/// A literal default's value (`-3` included); `None` for any other
/// expression, whose type is known only when it runs.
fn literal(e: &Expr) -> Option<Value> {
    Some(match &e.kind {
        ExprKind::Nil => Value::Nil,
        ExprKind::Bool(b) => Value::Bool(*b),
        ExprKind::Int(n) => Value::Int(*n),
        ExprKind::Float(x) => Value::Float(*x),
        ExprKind::Duration(d) => Value::Duration(*d),
        ExprKind::Str(s) => Value::str(s),
        ExprKind::Unary(UnOp::Neg, inner) => match literal(inner)? {
            Value::Int(n) => Value::Int(n.checked_neg()?),
            Value::Float(x) => Value::Float(-x),
            Value::Duration(d) => Value::Duration(d.checked_neg()?),
            _ => return None,
        },
        _ => return None,
    })
}

fn kind_text(kind: Kind) -> &'static str {
    match kind {
        Kind::Positional => "a param",
        Kind::Switch => "a switch flag (bool default)",
        Kind::Valued => "a flag that takes a value",
        Kind::Env => "an environment variable",
    }
}

impl ParamTable {
    /// Records a call of the native `native` (`args`, `param`, `flag` or
    /// `env`) with these arguments; a diagnostic if it cannot be checked.
    pub fn declare(
        &mut self,
        native: &str,
        args: &[Expr],
        source: SourceId,
        span: Span,
    ) -> Result<(), Box<Diagnostic>> {
        let loc = crate::compile::loc(source, span);
        if native == "args" {
            self.takes_args = true;
            return Ok(());
        }
        let Some(first) = args.first() else {
            return Ok(()); // the arity check reports it
        };
        let ExprKind::Str(name) = &first.kind else {
            return Err(Diagnostic::error(
                codes::PARAM_DECL,
                format!("the name `{native}` reads must be a string literal"),
                crate::compile::loc(source, first.span),
            )
            .label("not a literal string")
            .hint(format!(
                "write the name itself, such as {native}(\"{}\"), so that `voyager run` can check it before anything runs",
                if native == "env" { "HOME" } else { "target" }
            )).into());
        };
        let valid = if native == "env" {
            !name.is_empty() && !name.contains(['=', '\0'])
        } else {
            name.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if !valid {
            return Err(Diagnostic::error(
                codes::PARAM_DECL,
                format!("`{name}` cannot name {}", kind_text(kind_of(native, None))),
                crate::compile::loc(source, first.span),
            )
            .label("this name")
            .hint(if native == "env" {
                "an environment variable's name is not empty and has no `=`"
            } else {
                "use letters, digits, `-` and `_`, starting with a letter or digit"
            })
            .into());
        }
        let default = args.get(1).and_then(literal);
        let container = match args.get(1).map(|e| &e.kind) {
            Some(ExprKind::List(_)) => Some("list"),
            Some(ExprKind::Record(_)) => Some("record"),
            Some(ExprKind::Lambda(_)) => Some("function"),
            _ => None,
        };
        if let Some(what) = container {
            return Err(Diagnostic::error(
                codes::PARAM_DECL,
                format!("`{name}` cannot default to a {what}"),
                crate::compile::loc(source, args[1].span),
            )
            .label("this default")
            .hint("a default is a string, int, float, bool, duration or nil: the word after `--` converts to its type").into());
        }
        let kind = kind_of(native, default.as_ref());
        let required = args.len() < 2;
        let same_space = |k: Kind| (k == Kind::Env) == (kind == Kind::Env);
        if let Some(old) = self
            .items
            .iter_mut()
            .find(|d| d.name == *name && same_space(d.kind))
        {
            if old.kind != kind && !(old.kind == Kind::Valued && kind == Kind::Valued) {
                return Err(Diagnostic::error(
                    codes::PARAM_DECL,
                    format!(
                        "`{name}` is read as {} here, but as {} before",
                        kind_text(kind),
                        kind_text(old.kind)
                    ),
                    loc,
                )
                .label("read here")
                .also(old.loc, "first read here")
                .hint("read one parameter one way: give every read of it the same kind of default")
                .into());
            }
            old.required |= required;
            if old.default.is_none() {
                old.default = default;
            }
            return Ok(());
        }
        if kind == Kind::Positional && required {
            if let Some(optional) = self
                .items
                .iter()
                .find(|d| d.kind == Kind::Positional && !d.required)
            {
                return Err(Diagnostic::error(
                    codes::PARAM_DECL,
                    format!(
                        "the required param <{name}> comes after <{}>, which has a default",
                        optional.name
                    ),
                    loc,
                )
                .label("required")
                .also(optional.loc, "optional, read first")
                .hint("params take the words in the order they are first read: read the required ones first, or make this one a flag").into());
            }
        }
        self.items.push(Declared {
            name: name.clone(),
            kind,
            required,
            default,
            loc,
        });
        Ok(())
    }

    fn flag(&self, name: &str) -> Option<&Declared> {
        self.items
            .iter()
            .find(|d| d.name == name && matches!(d.kind, Kind::Switch | Kind::Valued))
    }

    /// One line: `<env> [<region>] [--force] [--replicas VALUE] [args…]`,
    /// then the environment variables read.
    pub fn usage(&self, script: &str) -> String {
        let mut parts = vec![format!("usage: voyager run {script} --")];
        for d in &self.items {
            let text = match d.kind {
                Kind::Positional => format!("<{}>", d.name),
                Kind::Switch => format!("--{}", d.name),
                Kind::Valued => format!("--{} VALUE", d.name),
                Kind::Env => continue,
            };
            parts.push(if d.required {
                text
            } else {
                format!("[{text}]")
            });
        }
        if self.takes_args {
            parts.push("[words…]".into());
        }
        let mut out = parts.join(" ");
        let env: Vec<String> = self
            .items
            .iter()
            .filter(|d| d.kind == Kind::Env)
            .map(|d| {
                if d.required {
                    format!("{} (required)", d.name)
                } else {
                    d.name.clone()
                }
            })
            .collect();
        if !env.is_empty() {
            out.push_str(&format!("\nenvironment: {}", env.join(", ")));
        }
        out
    }

    /// Sorts a run's words out by the declarations: `--name VALUE`,
    /// `--name=VALUE`, `--switch`; a lone `--` makes every later word
    /// positional. Checks every required parameter is there and every word
    /// converts to its default's type; `env` is looked up in `environment`.
    pub fn bind(
        &self,
        words: &[String],
        script: &str,
        environment: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ScriptArgs, Box<Diagnostic>> {
        let usage = || self.usage(script);
        let fail = |title: String, loc: Option<Loc>| {
            let d = match loc {
                Some(loc) => Diagnostic::error(codes::PARAMETER, title, loc).label("read here"),
                None => {
                    let mut d = Diagnostic::error(codes::PARAMETER, title, loc_none());
                    d.loc = None;
                    d
                }
            };
            Box::new(d.note(usage()))
        };
        let mut out = ScriptArgs::default();
        let mut words = words.iter();
        let mut only_positional = false;
        while let Some(word) = words.next() {
            if only_positional || !word.starts_with("--") {
                out.positional.push(word.clone());
                continue;
            }
            if word == "--" {
                only_positional = true;
                continue;
            }
            let (name, inline) = match word[2..].split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (&word[2..], None),
            };
            let Some(declared) = self.flag(name) else {
                let names = self
                    .items
                    .iter()
                    .filter(|d| matches!(d.kind, Kind::Switch | Kind::Valued))
                    .map(|d| d.name.as_str());
                let mut d = fail(format!("the script reads no flag --{name}"), None);
                if let Some(close) = crate::compile::did_you_mean(name, names) {
                    d.hint = Some(format!("did you mean --{close}?"));
                }
                return Err(d);
            };
            let value = match (declared.kind, inline) {
                (_, Some(v)) => v,
                (Kind::Switch, None) => "true".into(),
                (_, None) => match words.next() {
                    Some(v) => v.clone(),
                    None => {
                        return Err(fail(
                            format!("--{name} needs a value after it"),
                            Some(declared.loc),
                        ))
                    }
                },
            };
            out.flags.insert(name.to_string(), value);
        }
        let mut positional = out.positional.iter();
        for d in &self.items {
            let word = match d.kind {
                Kind::Positional => positional.next().cloned(),
                Kind::Env => environment(&d.name),
                Kind::Switch | Kind::Valued => out.flags.get(&d.name).cloned(),
            };
            let shown = match d.kind {
                Kind::Positional => format!("parameter <{}>", d.name),
                Kind::Env => format!("environment variable {}", d.name),
                _ => format!("--{}", d.name),
            };
            match word {
                None if d.required => {
                    return Err(fail(format!("{shown} is required"), Some(d.loc)))
                }
                None => {}
                Some(word) => {
                    if let Err(wanted) = convert_param(&word, d.default.as_ref()) {
                        return Err(fail(
                            format!("{shown} is `{word}`, but it must be {wanted}"),
                            Some(d.loc),
                        ));
                    }
                    if d.kind == Kind::Positional {
                        out.params.insert(d.name.clone(), word);
                    }
                }
            }
        }
        if let Some(extra) = positional.next() {
            if !self.takes_args {
                return Err(fail(
                    format!("the script takes no word `{extra}` (it reads no more params and never calls args())"),
                    None,
                ));
            }
        }
        Ok(out)
    }
}

fn kind_of(native: &str, default: Option<&Value>) -> Kind {
    match native {
        "param" => Kind::Positional,
        "env" => Kind::Env,
        _ if matches!(default, Some(Value::Bool(_))) => Kind::Switch,
        _ => Kind::Valued,
    }
}

/// A place for a diagnostic that has none (it is taken off again).
fn loc_none() -> Loc {
    crate::compile::loc(SourceId::default(), Span::default())
}

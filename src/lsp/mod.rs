//! `voyager lsp`: a language server over standard input and output.
//!
//! It runs the same checker as `voyager check` on every change of a
//! document and publishes its diagnostics; hover, go to definition, find
//! references, completion and document symbols read the syntax tree the
//! parser recovers ([`index::Index`]). It is synchronous, on `lsp-server`
//! (rust-analyzer's transport): the checker's values are not `Send`, and a
//! script is small enough to check again on each keystroke.

pub mod index;
pub mod text;
pub mod transport;

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::Notification as _;
use lsp_types::request::Request as _;
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionOptions, CompletionParams,
    DiagnosticRelatedInformation, DiagnosticSeverity, DidChangeTextDocumentParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DocumentSymbol, DocumentSymbolParams,
    GotoDefinitionParams, Hover, HoverContents, HoverParams, HoverProviderCapability, Location,
    MarkupContent, MarkupKind, NumberOrString, OneOf, PublishDiagnosticsParams, ReferenceParams,
    ServerCapabilities, SymbolKind, TextDocumentSyncCapability, TextDocumentSyncKind, Uri,
};

use crate::bytecode::chunk::SourceId;
use crate::diag::{Diagnostic, Level, Sources};
use crate::engine::Config;
use crate::syntax::lexer::KEYWORDS;
use crate::Voyager;
use index::{DefKind, Index};
use text::LineIndex;

/// Runs the server until the client says `exit`; returns the exit status
/// (0 after a `shutdown`, 1 otherwise, as the protocol asks).
pub fn serve() -> u8 {
    let (connection, writer) = transport::stdio();
    let status = match initialize(&connection) {
        Ok(()) => main_loop(&connection),
        Err(why) => {
            // Standard error may be closed too: nothing more to do then.
            let _ = writeln!(std::io::stderr(), "voyager lsp: {why}");
            1
        }
    };
    drop(connection);
    // The writer ends once every answer is out.
    if writer.join().is_err() {
        return 1;
    }
    status
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::FULL)),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec!["(".into(), ".".into()]),
            ..CompletionOptions::default()
        }),
        ..ServerCapabilities::default()
    }
}

fn initialize(connection: &Connection) -> Result<(), String> {
    let caps = serde_json::to_value(capabilities()).map_err(|e| e.to_string())?;
    let result = serde_json::json!({
        "capabilities": caps,
        "serverInfo": {"name": "voyager", "version": env!("CARGO_PKG_VERSION")},
    });
    let (id, _params) = connection.initialize_start().map_err(|e| e.to_string())?;
    connection
        .initialize_finish(id, result)
        .map_err(|e| e.to_string())
}

/// An open document.
struct Document {
    text: String,
}

struct Server<'c> {
    connection: &'c Connection,
    documents: HashMap<String, Document>,
    builtins: Builtins,
}

fn main_loop(connection: &Connection) -> u8 {
    let mut server = Server {
        connection,
        documents: HashMap::new(),
        builtins: Builtins::new(),
    };
    while let Ok(message) = connection.receiver.recv() {
        match message {
            Message::Request(request) => {
                match connection.handle_shutdown(&request) {
                    // `handle_shutdown` answered and then waited for `exit`.
                    Ok(true) => return 0,
                    Ok(false) => {}
                    Err(_) => return 1,
                }
                let response = server.request(request);
                if connection.sender.send(Message::Response(response)).is_err() {
                    return 1;
                }
            }
            Message::Notification(note) => {
                if note.method == lsp_types::notification::Exit::METHOD {
                    // `exit` without `shutdown` first.
                    return 1;
                }
                server.notification(note);
            }
            Message::Response(_) => {}
        }
    }
    1
}

/// A request's params, or why they cannot be read.
fn params<P: serde::de::DeserializeOwned>(request: &Request) -> Result<P, String> {
    serde_json::from_value(request.params.clone())
        .map_err(|e| format!("invalid params for {}: {e}", request.method))
}

fn reply<R: serde::Serialize>(id: RequestId, result: R) -> Response {
    match serde_json::to_value(result) {
        Ok(value) => Response::new_ok(id, value),
        Err(e) => Response::new_err(id, ErrorCode::InternalError as i32, e.to_string()),
    }
}

impl Server<'_> {
    fn request(&mut self, request: Request) -> Response {
        use lsp_types::request::{
            Completion, DocumentSymbolRequest, GotoDefinition, HoverRequest, References,
        };
        let id = request.id.clone();
        let method = request.method.as_str();
        // A bug in a handler answers this request with an error instead of
        // taking the editor's server down.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Ok(match method {
                HoverRequest::METHOD => reply(id.clone(), self.hover(params(&request)?)),
                GotoDefinition::METHOD => reply(id.clone(), self.definition(params(&request)?)),
                References::METHOD => reply(id.clone(), self.references(params(&request)?)),
                Completion::METHOD => reply(id.clone(), self.completion(params(&request)?)),
                DocumentSymbolRequest::METHOD => reply(id.clone(), self.symbols(params(&request)?)),
                _ => Response::new_err(
                    id.clone(),
                    ErrorCode::MethodNotFound as i32,
                    format!("voyager lsp does not handle {method}"),
                ),
            })
        }));
        match outcome {
            Ok(Ok(response)) => response,
            Ok(Err(why)) => Response::new_err(id, ErrorCode::InvalidParams as i32, why),
            Err(_) => Response::new_err(
                id,
                ErrorCode::InternalError as i32,
                format!("internal error while handling {method}"),
            ),
        }
    }

    fn notification(&mut self, note: Notification) {
        use lsp_types::notification::{
            DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument,
        };
        // Notifications get no answer: one that cannot be read is ignored.
        match note.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(note.params) {
                    let doc = p.text_document;
                    self.open(doc.uri, doc.text, doc.version);
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(note.params) {
                    let uri = p.text_document.uri;
                    let Some(doc) = self.documents.get(uri.as_str()) else {
                        return;
                    };
                    // The server asks for full sync (a change without a
                    // range), but applies ranges too, in order.
                    let mut text = doc.text.clone();
                    for change in p.content_changes {
                        match change.range {
                            Some(range) => {
                                let lines = LineIndex::new(&text);
                                let start = lines.offset(range.start);
                                let end = lines.offset(range.end).max(start);
                                text.replace_range(start..end, &change.text);
                            }
                            None => text = change.text,
                        }
                    }
                    self.open(uri, text, p.text_document.version);
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(note.params) {
                    self.documents.remove(p.text_document.uri.as_str());
                    self.publish(p.text_document.uri, Vec::new(), None);
                }
            }
            _ => {}
        }
    }

    fn open(&mut self, uri: Uri, text: String, version: i32) {
        let diagnostics = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            lsp_diagnostics(&uri, &text)
        }))
        .unwrap_or_default();
        self.documents
            .insert(uri.as_str().to_string(), Document { text });
        self.publish(uri, diagnostics, Some(version));
    }

    fn publish(&self, uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        let method = lsp_types::notification::PublishDiagnostics::METHOD.to_string();
        let _ = self
            .connection
            .sender
            .send(Message::Notification(Notification::new(method, params)));
    }

    fn document(&self, uri: &Uri) -> Option<&Document> {
        self.documents.get(uri.as_str())
    }

    fn hover(&self, p: HoverParams) -> Option<Hover> {
        let at = p.text_document_position_params;
        let doc = self.document(&at.text_document.uri)?;
        let lines = LineIndex::new(&doc.text);
        let index = Index::of(&doc.text);
        let offset = lines.offset(at.position);
        if let Some(member) = index.member_at(offset) {
            let dir = file_path(&at.text_document.uri);
            let dir = dir.as_deref().and_then(Path::parent);
            let module = module_index(&index, &member.module, dir)?;
            let def = module
                .defs
                .iter()
                .find(|d| d.visible.start == 0 && d.name == member.name)?;
            return Some(hover(
                &lines,
                member.span,
                def.signature.replacen(
                    &format!(" {}(", def.name),
                    &format!(" {}.{}(", member.module, def.name),
                    1,
                ),
                def.doc.clone(),
            ));
        }
        let (name, span) = index.name_at(offset)?;
        let (signature, about) = match index.def_at(offset) {
            Some(def) => {
                let def = &index.defs[def];
                (def.signature.clone(), def.doc.clone())
            }
            None => {
                let builtin = self.builtins.get(name)?;
                (builtin.signature.clone(), builtin.doc.clone())
            }
        };
        Some(hover(&lines, span, signature, about))
    }

    fn definition(&self, p: GotoDefinitionParams) -> Option<Location> {
        let at = p.text_document_position_params;
        let doc = self.document(&at.text_document.uri)?;
        let lines = LineIndex::new(&doc.text);
        let index = Index::of(&doc.text);
        let def = index.def_at(lines.offset(at.position))?;
        Some(Location::new(
            at.text_document.uri,
            lines.range(index.defs[def].span),
        ))
    }

    fn references(&self, p: ReferenceParams) -> Option<Vec<Location>> {
        let at = p.text_document_position;
        let doc = self.document(&at.text_document.uri)?;
        let lines = LineIndex::new(&doc.text);
        let index = Index::of(&doc.text);
        let def = index.def_at(lines.offset(at.position))?;
        let mut spans: Vec<_> = index.uses_of(def).collect();
        if p.context.include_declaration {
            spans.push(index.defs[def].span);
        }
        spans.sort_by_key(|s| s.start);
        let uri = at.text_document.uri;
        Some(
            spans
                .into_iter()
                .map(|s| Location::new(uri.clone(), lines.range(s)))
                .collect(),
        )
    }

    fn completion(&self, p: CompletionParams) -> Option<Vec<CompletionItem>> {
        let at = p.text_document_position;
        let doc = self.document(&at.text_document.uri)?;
        let lines = LineIndex::new(&doc.text);
        let offset = lines.offset(at.position);
        let index = Index::of(&doc.text);
        let mut items = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut add = |item: CompletionItem| {
            if seen.insert(item.label.clone()) {
                items.push(item);
            }
        };
        if let Some(module) = member_prefix(&doc.text[..offset]) {
            // After `passes.`: the module's functions. After any other
            // `x.`, the fields depend on the value, which is not known here.
            let dir = file_path(&at.text_document.uri);
            let dir = dir.as_deref().and_then(Path::parent);
            let Some(module) = module_index(&index, module, dir) else {
                return Some(Vec::new());
            };
            let top = module.defs.iter().filter(|d| d.visible.start == 0);
            return Some(
                top.filter(|d| d.kind == DefKind::Function || d.kind == DefKind::Action)
                    .map(|d| CompletionItem {
                        label: d.name.clone(),
                        kind: Some(completion_kind(d.kind)),
                        detail: Some(d.signature.clone()),
                        documentation: d.doc.clone().map(lsp_types::Documentation::String),
                        ..CompletionItem::default()
                    })
                    .collect(),
            );
        }
        let actions_only = in_call_head(&doc.text[..offset]);
        for def in index.visible_at(offset) {
            if actions_only && def.kind != DefKind::Action {
                continue;
            }
            add(CompletionItem {
                label: def.name.clone(),
                kind: Some(completion_kind(def.kind)),
                detail: Some(def.signature.clone()),
                documentation: def.doc.clone().map(lsp_types::Documentation::String),
                ..CompletionItem::default()
            });
        }
        for builtin in &self.builtins.items {
            if actions_only && !builtin.action {
                continue;
            }
            add(CompletionItem {
                label: builtin.name.clone(),
                kind: Some(if builtin.action {
                    CompletionItemKind::EVENT
                } else {
                    CompletionItemKind::FUNCTION
                }),
                detail: Some(builtin.signature.clone()),
                documentation: builtin.doc.clone().map(lsp_types::Documentation::String),
                ..CompletionItem::default()
            });
        }
        if !actions_only {
            for keyword in KEYWORDS {
                add(CompletionItem {
                    label: keyword.to_string(),
                    kind: Some(CompletionItemKind::KEYWORD),
                    ..CompletionItem::default()
                });
            }
        }
        Some(items)
    }

    #[allow(deprecated)] // `DocumentSymbol::deprecated`, which must still be given
    fn symbols(&self, p: DocumentSymbolParams) -> Option<Vec<DocumentSymbol>> {
        let doc = self.document(&p.text_document.uri)?;
        let lines = LineIndex::new(&doc.text);
        let index = Index::of(&doc.text);
        let symbols = index
            .defs
            .iter()
            .filter_map(|def| {
                let kind = match def.kind {
                    DefKind::Action => SymbolKind::EVENT,
                    DefKind::Function => SymbolKind::FUNCTION,
                    DefKind::Pass => SymbolKind::OPERATOR,
                    DefKind::Interest | DefKind::Observe => SymbolKind::INTERFACE,
                    _ => return None,
                };
                let name = match def.kind {
                    DefKind::Pass => format!("pass \"{}\"", def.name),
                    DefKind::Interest => format!("interest \"{}\"", def.name),
                    DefKind::Observe => format!("observe \"{}\"", def.name),
                    _ => def.name.clone(),
                };
                Some(DocumentSymbol {
                    name,
                    detail: Some(def.signature.clone()),
                    kind,
                    tags: None,
                    deprecated: None,
                    range: lines.range(def.full),
                    selection_range: lines.range(def.span),
                    children: None,
                })
            })
            .collect();
        Some(symbols)
    }
}

fn hover(
    lines: &LineIndex,
    span: crate::syntax::Span,
    signature: String,
    about: Option<String>,
) -> Hover {
    let mut value = format!("```voyager\n{signature}\n```");
    if let Some(about) = about.filter(|a| !a.is_empty()) {
        value.push_str("\n\n");
        value.push_str(&about);
    }
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: Some(lines.range(span)),
    }
}

/// The declarations of an imported module: a std module, or `name.vy`
/// next to the document.
fn module_index(index: &Index, module: &str, dir: Option<&Path>) -> Option<Index> {
    if !index.is_import(module) {
        return None;
    }
    match crate::runtime::std_module(module) {
        Some(text) => Some(Index::of(text)),
        None => {
            let text = std::fs::read_to_string(dir?.join(format!("{module}.vy"))).ok()?;
            Some(Index::of(&text))
        }
    }
}

/// The `x` of `x.` (or `x.na`) just before the cursor.
fn member_prefix(before: &str) -> Option<&str> {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let before = before.trim_end_matches(is_word).strip_suffix('.')?;
    let start = before.trim_end_matches(is_word).len();
    let word = &before[start..];
    (!word.is_empty() && !word.starts_with(|c: char| c.is_ascii_digit())).then_some(word)
}

/// Whether the cursor is on the first argument of `call(`, where only an
/// action makes sense.
fn in_call_head(before: &str) -> bool {
    let before = before.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    let before = before.trim_end();
    before
        .strip_suffix('(')
        .map(str::trim_end)
        .is_some_and(|b| {
            b.ends_with("call")
                && !b[..b.len() - 4].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        })
}

fn completion_kind(kind: DefKind) -> CompletionItemKind {
    match kind {
        DefKind::Action => CompletionItemKind::EVENT,
        DefKind::Function => CompletionItemKind::FUNCTION,
        DefKind::Import => CompletionItemKind::MODULE,
        DefKind::Global => CompletionItemKind::VARIABLE,
        _ => CompletionItemKind::VARIABLE,
    }
}

/// A name every script can use, with what hover shows for it.
struct Builtin {
    name: String,
    signature: String,
    doc: Option<String>,
    action: bool,
}

struct Builtins {
    items: Vec<Builtin>,
}

/// The native actions, which run on the worker pool (src/engine/jobs.rs).
const NATIVE_ACTIONS: &[(&str, &str, &str)] = &[
    ("sh", "action sh(command, options)", "Runs a command through `/bin/sh -c` on the worker pool; yields `data({code, stdout, stderr})`. Options: `{cwd, env, stdin, check}`. A failing command is retryable."),
    ("read_file", "action read_file(path)", "Reads a file on the worker pool; yields its text. A missing file is fatal, another I/O error retryable."),
    ("write_file", "action write_file(path, text)", "Writes `text` to a file on the worker pool."),
    ("http", "action http(request)", "Makes an HTTP request: a URL, or `{method, url, headers, body, json}`; yields `data({status, headers, body})`, and `json` for a JSON response. A 5xx or connection error is retryable, a 4xx fatal."),
    ("list_dir", "action list_dir(path)", "Lists a folder on the worker pool; yields its entries' names, sorted."),
    ("glob", "action glob(pattern)", "Yields the paths that match a glob pattern (`*`, `?`, `**`, `[a-z]`), sorted."),
    ("path_exists", "action path_exists(path)", "Yields whether a path exists."),
    ("append_file", "action append_file(path, text)", "Appends `text` to a file (made if missing)."),
    ("make_dir", "action make_dir(path)", "Makes a folder and any missing parents."),
    ("remove_file", "action remove_file(path)", "Removes a file. A missing file is fatal."),
    ("remove_dir", "action remove_dir(path)", "Removes a folder and everything in it."),
];

impl Builtins {
    fn new() -> Builtins {
        let mut items = Vec::new();
        for native in crate::vm::natives::NATIVES {
            let (signature, doc) = match native.doc.split_once("): ") {
                Some((signature, doc)) => (format!("{signature})"), Some(doc.to_string())),
                None => (native.doc.to_string(), None),
            };
            items.push(Builtin {
                name: native.name.to_string(),
                signature,
                doc,
                action: false,
            });
        }
        for (name, signature, doc) in NATIVE_ACTIONS {
            items.push(Builtin {
                name: name.to_string(),
                signature: signature.to_string(),
                doc: Some(doc.to_string()),
                action: true,
            });
        }
        let prelude = Index::of(crate::runtime::PRELUDE);
        for def in prelude.defs.iter().filter(|d| d.visible.start == 0) {
            if matches!(
                def.kind,
                DefKind::Action | DefKind::Function | DefKind::Global
            ) {
                items.push(Builtin {
                    name: def.name.clone(),
                    signature: def.signature.clone(),
                    doc: def.doc.clone(),
                    action: def.kind == DefKind::Action,
                });
            }
        }
        items.push(Builtin {
            name: "noop".into(),
            signature: "noop".into(),
            doc: Some("The message that does nothing.".into()),
            action: false,
        });
        Builtins { items }
    }

    fn get(&self, name: &str) -> Option<&Builtin> {
        self.items.iter().find(|b| b.name == name)
    }
}

/// The path of a `file:` URI, percent-decoded.
fn file_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&a), Some(&b)) if hex(a).is_some() && hex(b).is_some() => {
                out.push((hex(a).unwrap_or(0) * 16 + hex(b).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok().map(PathBuf::from)
}

/// What `voyager check` reports for a text: its errors, or its warnings.
pub struct Checked {
    pub diagnostics: Vec<Diagnostic>,
    pub sources: Sources,
    /// The text's own source (imports and the prelude are others).
    pub source: SourceId,
}

/// Checks a text as `voyager check` would (imports are looked for in `dir`).
pub fn check(name: &str, text: &str, dir: Option<&Path>) -> Checked {
    let (mut v, _) = Voyager::with_buffer(Config::default());
    let source = v.sources.len() as SourceId;
    let diagnostics = match v.compile(name, text, dir) {
        Ok(_) => v.warnings.clone(),
        Err(diagnostics) => diagnostics,
    };
    Checked {
        diagnostics,
        sources: v.sources.clone(),
        source,
    }
}

/// The checker's diagnostics for a document, as LSP diagnostics: the code,
/// the title as the message with the label, hint and notes after it, and
/// other places in the document as related information.
pub fn lsp_diagnostics(uri: &Uri, text: &str) -> Vec<lsp_types::Diagnostic> {
    let path = file_path(uri);
    let name = path
        .as_ref()
        .map_or_else(|| uri.as_str().to_string(), |p| p.display().to_string());
    let dir = path.as_deref().and_then(Path::parent);
    let checked = check(&name, text, dir);
    let lines = LineIndex::new(text);
    let elsewhere = |loc: crate::vm::error::Loc| checked.sources.position(loc);
    checked
        .diagnostics
        .iter()
        .map(|d| {
            let mut message = d.title.clone();
            let mut range = lsp_types::Range::default();
            match d.loc {
                Some(loc) if loc.source == checked.source => range = lines.range(loc.span),
                Some(loc) => message.push_str(&format!(" (at {})", elsewhere(loc))),
                None => {}
            }
            if !d.label.is_empty() {
                message.push_str(&format!("\n{}", d.label));
            }
            let mut related = Vec::new();
            for (loc, label) in &d.secondary {
                if loc.source == checked.source {
                    related.push(DiagnosticRelatedInformation {
                        location: Location::new(uri.clone(), lines.range(loc.span)),
                        message: label.clone(),
                    });
                } else {
                    message.push_str(&format!("\n{label} (at {})", elsewhere(*loc)));
                }
            }
            if let Some(hint) = &d.hint {
                message.push_str(&format!("\nhelp: {hint}"));
            }
            for note in &d.notes {
                message.push_str(&format!("\nnote: {note}"));
            }
            lsp_types::Diagnostic {
                range,
                severity: Some(match d.level {
                    Level::Error => DiagnosticSeverity::ERROR,
                    Level::Warning => DiagnosticSeverity::WARNING,
                }),
                code: Some(NumberOrString::String(d.code.to_string())),
                source: Some("voyager".into()),
                message,
                related_information: (!related.is_empty()).then_some(related),
                ..lsp_types::Diagnostic::default()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn the_first_argument_of_call_wants_an_action() {
        assert!(in_call_head("x = call("));
        assert!(in_call_head("call( gre"));
        assert!(!in_call_head("recall(gre"));
        assert!(!in_call_head("call(greet, "));
        assert!(!in_call_head("print(gre"));
    }

    #[test]
    fn a_member_prefix_is_the_word_before_the_dot() {
        assert_eq!(member_prefix("passes."), Some("passes"));
        assert_eq!(member_prefix("x = passes.ba"), Some("passes"));
        assert_eq!(member_prefix("1.5"), None);
        assert_eq!(member_prefix("passes"), None);
    }

    #[test]
    fn file_uris_become_paths() {
        let uri = Uri::from_str("file:///tmp/a%20b/x.vy").unwrap();
        assert_eq!(file_path(&uri), Some(PathBuf::from("/tmp/a b/x.vy")));
    }
}

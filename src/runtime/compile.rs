//! Compiling a script with its imports: `std/` modules by name and files by
//! relative path, each once, each into its own namespace.

use super::*;

impl Voyager {
    /// Lexes, parses and compiles a source without running it.
    pub fn compile(
        &mut self,
        name: &str,
        text: &str,
        dir: Option<&Path>,
    ) -> Result<Vec<Unit>, Vec<Diagnostic>> {
        self.compile_as(name, text, dir, false)
    }

    pub(super) fn compile_as(
        &mut self,
        name: &str,
        text: &str,
        dir: Option<&Path>,
        repl: bool,
    ) -> Result<Vec<Unit>, Vec<Diagnostic>> {
        self.load_prelude_for(text);
        let source = self.sources.add(name, text);
        let stmts = parse_source(source, text)?;
        let mut units = Vec::new();
        self.importing = dir
            .map(|d| {
                let path = d.join(Path::new(name).file_name().unwrap_or_default());
                vec![std::fs::canonicalize(&path).unwrap_or(path)]
            })
            .unwrap_or_default();
        self.compile_imports(&stmts, dir, source, &mut units)?;
        let options = UnitOptions {
            source,
            module: None,
            warn_unfed_passes: !repl,
            repl,
        };
        let unit = compile_unit(&stmts, &mut self.globals, &options)?;
        self.warnings = unit.warnings.clone();
        units.push(unit);
        Ok(units)
    }

    pub(super) fn compile_imports(
        &mut self,
        stmts: &[Stmt],
        dir: Option<&Path>,
        importer: SourceId,
        units: &mut Vec<Unit>,
    ) -> Result<(), Vec<Diagnostic>> {
        for stmt in stmts {
            let StmtKind::Import((name, span)) = &stmt.kind else {
                continue;
            };
            if crate::syntax::ast::is_path_import(name) {
                let at = Loc {
                    source: importer,
                    span: *span,
                };
                self.import_file(name, at, dir, units)?;
                continue;
            }
            if self.modules.contains(name) {
                continue;
            }
            let (text, path): (String, String) = if let Some(text) = std_module(name) {
                (text.to_string(), format!("std/{name}.vy"))
            } else {
                let path: PathBuf = dir.unwrap_or(Path::new(".")).join(format!("{name}.vy"));
                match std::fs::read_to_string(&path) {
                    Ok(text) => (text, path.display().to_string()),
                    // The compiler reports the unknown module with its span.
                    Err(_) => continue,
                }
            };
            let _ = span;
            self.load_prelude_for(&text);
            self.modules.insert(name.clone());
            let source = self.sources.add(path, text.clone());
            let module_stmts = parse_source(source, &text)?;
            self.compile_imports(&module_stmts, dir, source, units)?;
            self.compile_module(name.clone(), source, &module_stmts, units)?;
        }
        Ok(())
    }

    /// Declares the namespace `name` and compiles a module's statements
    /// into it.
    pub(super) fn compile_module(
        &mut self,
        name: String,
        source: SourceId,
        stmts: &[Stmt],
        units: &mut Vec<Unit>,
    ) -> Result<(), Vec<Diagnostic>> {
        let slot = self.globals.slots as u16;
        self.globals.slots += 1;
        let loc = Some(Loc {
            source,
            span: Default::default(),
        });
        let kind = GlobalKind::Module;
        self.globals
            .names
            .insert(name.clone(), Global { slot, kind, loc });
        let options = UnitOptions {
            source,
            module: Some(name),
            warn_unfed_passes: false,
            repl: false,
        };
        units.push(compile_unit(stmts, &mut self.globals, &options)?);
        Ok(())
    }

    /// `import "lib/x.vy"`: the file, relative to the importing file's
    /// folder, compiled into the namespace `x`, once. A missing file, a
    /// cycle, or two files with one namespace is a compile error that shows
    /// both places.
    pub(super) fn import_file(
        &mut self,
        import: &str,
        at: Loc,
        dir: Option<&Path>,
        units: &mut Vec<Unit>,
    ) -> Result<(), Vec<Diagnostic>> {
        let namespace = crate::syntax::ast::module_name(import).to_string();
        let path = dir.unwrap_or(Path::new(".")).join(import);
        let key = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        let err = |code, title: String| Diagnostic::error(code, title, at);
        if !crate::compile::is_plain_name(&namespace) {
            return Err(vec![err(
                crate::codes::IMPORT,
                format!("`{import}` cannot be a namespace: `{namespace}` is not a name"),
            )
            .label("imported here")
            .hint("name the file with letters, digits and `_`, ending in .vy")]);
        }
        if let Some(open) = self.importing.iter().position(|p| *p == key) {
            let chain: Vec<String> = self.importing[open..]
                .iter()
                .chain(std::iter::once(&key))
                .map(|p| p.display().to_string())
                .collect();
            return Err(vec![err(
                crate::codes::IMPORT,
                format!("`{import}` imports itself, through {}", chain.join(" → ")),
            )
            .label("this import closes the cycle")
            .hint(
                "move what both files need into a third file that imports neither",
            )]);
        }
        if let Some((first, first_at)) = self.imported_files.get(&namespace) {
            if *first == key {
                return Ok(());
            }
            let d = err(
                crate::codes::IMPORT,
                format!(
                    "`{import}` and {} would both be the namespace `{namespace}`",
                    first.display()
                ),
            )
            .label("imported here")
            .also(*first_at, "the other file, imported here")
            .hint("rename one of the files");
            return Err(vec![d]);
        }
        if self.globals.lookup(&namespace).is_some() || std_module(&namespace).is_some() {
            return Err(vec![err(
                crate::codes::IMPORT,
                format!("`{import}` would be the namespace `{namespace}`, a name already taken"),
            )
            .label("imported here")
            .hint("rename the file")]);
        }
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => {
                return Err(vec![err(
                    crate::codes::UNKNOWN_MODULE,
                    format!("cannot import {}: {e}", path.display()),
                )
                .label("imported here")
                .hint("the path is relative to the importing file's folder")])
            }
        };
        self.load_prelude_for(&text);
        self.imported_files
            .insert(namespace.clone(), (key.clone(), at));
        self.importing.push(key);
        let source = self.sources.add(path.display().to_string(), text.clone());
        let module_stmts = parse_source(source, &text)?;
        let module_dir = path.parent().map(Path::to_path_buf);
        self.compile_imports(&module_stmts, module_dir.as_deref(), source, units)?;
        self.importing.pop();
        self.compile_module(namespace, source, &module_stmts, units)
    }
}

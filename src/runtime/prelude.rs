//! The prelude's Voyager half (`std/prelude.vy`), loaded a function at a
//! time, when a source first names it.
//!
//! Parsing and compiling the whole prelude was 0.84 M of the 1.9 M
//! instructions of `voyager run hello.vy`. Now an instance reserves one
//! global slot per prelude function when it is made (the slots the eager
//! load gave them), and before a source is compiled (a script, an import,
//! a REPL input, an enqueued expression) the prelude functions whose names
//! appear in its text as words are compiled into their slots, in prelude
//! order. A name a program can use has to be written in its text, so the
//! program sees what it saw when the whole prelude was loaded first: the
//! same globals under the same slots, a redefinition of `map` declared
//! over the prelude's. A word in a comment or a string loads a function
//! needlessly, which costs only time.
//!
//! What finds a global by a name that is not in a compiled text (a
//! function restored from a store, a dead-letters file or another
//! worker's message) loads the whole prelude first: see
//! [`Voyager::load_prelude`].

use std::sync::OnceLock;

use super::*;

/// One `fn` of the prelude: its name and where it is in [`PRELUDE`].
pub(super) struct Piece {
    pub name: &'static str,
    pub range: std::ops::Range<usize>,
}

/// The prelude's functions, in order, found once by scanning its text for
/// lines that start with `fn `.
pub(super) fn pieces() -> &'static [Piece] {
    static PIECES: OnceLock<Vec<Piece>> = OnceLock::new();
    PIECES.get_or_init(|| {
        let mut starts = Vec::new();
        let mut at = 0;
        for line in PRELUDE.split_inclusive('\n') {
            if let Some(rest) = line.strip_prefix("fn ") {
                let name_len = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                starts.push((at, &rest[..name_len]));
            } else {
                // Anything else at the top level would not be loaded.
                debug_assert!(
                    line.trim().is_empty()
                        || line.starts_with("//")
                        || line.starts_with(' ')
                        || line.starts_with('}'),
                    "std/prelude.vy may hold only `fn` declarations at its top level: {line:?}"
                );
            }
            at += line.len();
        }
        assert!(starts.len() <= 64, "the prelude has more than 64 functions");
        starts
            .iter()
            .enumerate()
            .map(|(i, &(start, name))| Piece {
                name,
                range: start..starts.get(i + 1).map_or(PRELUDE.len(), |s| s.0),
            })
            .collect()
    })
}

/// The prelude's function names, in order.
pub fn prelude_names() -> impl Iterator<Item = &'static str> {
    pieces().iter().map(|p| p.name)
}

/// The prelude functions `text` names as a word, as a mask.
fn named_in(pieces: &[Piece], text: &str) -> u64 {
    let mut mask = 0;
    for word in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if word.is_empty() {
            continue;
        }
        if let Some(i) = pieces.iter().position(|p| p.name == word) {
            mask |= 1 << i;
        }
    }
    mask
}

/// What `mask` names, with the prelude functions those name, and so on
/// (each piece's text is scanned when it is first wanted).
fn closure(pieces: &[Piece], mut mask: u64) -> u64 {
    let mut scanned = 0u64;
    while mask & !scanned != 0 {
        let i = (mask & !scanned).trailing_zeros() as usize;
        scanned |= 1 << i;
        if let Some(piece) = pieces.get(i) {
            mask |= named_in(pieces, &PRELUDE[piece.range.clone()]);
        }
    }
    mask & (u64::MAX >> (64 - pieces.len().max(1)))
}

/// The state of an instance's prelude.
pub(super) struct Prelude {
    /// The global slot of the first prelude function (the others follow).
    base: usize,
    /// The prelude's source (`std/prelude.vy`, the whole text).
    source: SourceId,
    /// The functions loaded so far, as a mask.
    loaded: u64,
}

impl Voyager {
    /// Adds the prelude's source and reserves a global slot for each of
    /// its functions, in order (nothing is compiled yet).
    pub(super) fn reserve_prelude(&mut self) {
        let source = self.sources.add("std/prelude.vy", PRELUDE);
        let base = self.globals.slots;
        self.globals.slots += pieces().len();
        self.globals.offered = prelude_names().collect();
        self.engine.vm.ensure_globals(self.globals.slots);
        self.prelude = Some(Prelude {
            base,
            source,
            loaded: 0,
        });
    }

    /// Loads the prelude functions that `text` names (and what they name)
    /// that are not loaded yet. Called before a source is compiled.
    pub fn load_prelude_for(&mut self, text: &str) {
        if let Some(p) = &self.prelude {
            let all = pieces();
            let want = named_in(all, text) & !p.loaded;
            if want != 0 {
                self.load_prelude_mask(want);
            }
        }
    }

    /// Loads the whole prelude (what is left of it), as an instance made
    /// before lazy loading had it: for what looks a function up by a name
    /// no compiled text wrote (a function value restored from a store, a
    /// dead-letters file, another worker's or a server request's JSON).
    pub fn load_prelude(&mut self) {
        self.load_prelude_mask(u64::MAX);
    }

    fn load_prelude_mask(&mut self, want: u64) {
        let Some(p) = &self.prelude else {
            return;
        };
        let (base, source, loaded) = (p.base, p.source, p.loaded);
        let all = pieces();
        let want = closure(all, want) & !loaded;
        for (i, piece) in all.iter().enumerate() {
            if want & (1 << i) == 0 {
                continue;
            }
            // The function's text where it is in the file (the rest blank),
            // so that its spans point into std/prelude.vy as before.
            let mut text = vec![b' '; PRELUDE.len()];
            text[piece.range.clone()].copy_from_slice(&PRELUDE.as_bytes()[piece.range.clone()]);
            let text = String::from_utf8(text).expect("a piece of the prelude is UTF-8");
            let stmts = parse_source(source, &text)
                .unwrap_or_else(|e| panic!("the embedded prelude does not parse: {e:?}"));
            let options = UnitOptions {
                source,
                module: None,
                warn_unfed_passes: true,
                repl: false,
            };
            let after = self.globals.slots;
            self.globals.slots = base + i;
            let unit = compile_unit(&stmts, &mut self.globals, &options);
            assert_eq!(
                self.globals.slots,
                base + i + 1,
                "a prelude function takes exactly its own global slot"
            );
            self.globals.slots = after;
            let unit =
                unit.unwrap_or_else(|e| panic!("the embedded prelude does not compile: {e:?}"));
            if let Some(p) = &mut self.prelude {
                p.loaded |= 1 << i;
            }
            if let Err(e) = self.install(unit) {
                panic!("the embedded prelude does not load: {e:?}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loaded a function at a time, the prelude ends as the whole file
    /// compiled at once would: the same names, each in the slot it had.
    #[test]
    fn lazily_loaded_prelude_matches_the_file() {
        let mut eager = Globals::default();
        let base = 7;
        eager.slots = base;
        let stmts = parse_source(0, PRELUDE).expect("parses");
        let options = UnitOptions {
            source: 0,
            module: None,
            warn_unfed_passes: true,
            repl: false,
        };
        compile_unit(&stmts, &mut eager, &options).expect("compiles");
        let declared: Vec<(&str, u16)> = eager
            .names
            .iter()
            .map(|(n, g)| (n.as_str(), g.slot - base as u16))
            .collect();
        let pieces: Vec<(&str, u16)> = prelude_names()
            .enumerate()
            .map(|(i, n)| (n, i as u16))
            .collect();
        assert_eq!(declared, pieces);

        let (mut v, _) = Voyager::with_buffer(Config::default());
        let p = v.prelude.as_ref().expect("reserved");
        let (base, source) = (p.base, p.source);
        assert!(prelude_names().all(|n| v.globals.lookup(n).is_none()));
        v.load_prelude_for("let s = sum([1, 2]) // and map");
        assert!(v.globals.lookup("sum").is_some() && v.globals.lookup("map").is_some());
        assert!(v.globals.lookup("filter").is_none());
        v.load_prelude();
        for (i, name) in prelude_names().enumerate() {
            let g = v.globals.lookup(name).expect("loaded");
            assert_eq!(g.slot as usize, base + i, "{name}");
            let eager_loc = eager.names[name].loc.expect("declared").span;
            assert_eq!(g.loc.expect("declared").span, eager_loc, "{name}");
            assert_eq!(g.loc.expect("declared").source, source);
            assert!(matches!(
                v.engine.vm.globals[g.slot as usize],
                Value::Func(_)
            ));
        }
    }
}

//! Source text to syntax tree: spans, tokens, the tree, the parser.

pub mod ast;
pub mod lexer;
pub mod parser;
pub mod span;
pub mod visit;
pub mod words;

pub use span::{Loc, SourceId, Span};

//! Voyager: a small language whose programs are trees of messages, and the
//! engine that runs them.

pub mod bytecode;
pub mod cli;
pub mod compile;
pub mod diag;
pub mod engine;
pub mod runtime;
pub mod syntax;
pub mod vm;

pub use runtime::{LoadError, Options, Output, Voyager};

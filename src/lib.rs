//! Voyager: a small language whose programs are trees of messages, and the
//! engine that runs them.

pub mod bytecode;
pub mod compile;
pub mod diag;
pub mod syntax;
pub mod vm;

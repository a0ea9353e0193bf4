//! Voyager: a small language whose programs are trees of messages, and the
//! engine that runs them.

pub mod syntax;

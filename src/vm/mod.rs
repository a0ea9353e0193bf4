//! Runs compiled code: values, messages as values, the interpreter, natives.

pub mod error;
pub mod interp;
pub mod job;
pub mod message;
pub mod natives;
pub mod pattern;
pub mod schedule;
pub mod value;

pub use error::{RuntimeError, Severity};
pub use interp::Vm;
pub use message::{Message, Msg};
pub use value::Value;

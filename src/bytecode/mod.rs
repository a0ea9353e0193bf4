//! The bytecode: opcodes declared once, compiled functions, the disassembler.

pub mod chunk;
pub mod disasm;
pub mod opcode;
pub mod program;

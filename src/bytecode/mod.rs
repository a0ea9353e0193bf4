//! The bytecode: opcodes declared once, compiled functions and their
//! constants, the disassembler. It knows nothing of the interpreter.

pub mod chunk;
pub mod constant;
pub mod disasm;
pub mod opcode;
pub mod program;

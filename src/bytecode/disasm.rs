//! `voyager disasm`: instructions interleaved with the source lines they
//! came from.

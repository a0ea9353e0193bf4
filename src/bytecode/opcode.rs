//! Every opcode, declared once: its byte, its name, its operands and its stack
//! effect. The enum, the name table, the operand widths and the disassembler
//! all come from the one table below.
//!
//! Operands follow the opcode byte, little-endian. `K` operands (`u16`)
//! index the constant pool, and `Chunk::verify` checks them against it
//! (and that a `KInt` one names an int);
//! other `u16` operands index a frame's locals, the globals, or a chunk's
//! patterns and nested functions, or count; `u32` operands are absolute
//! jump targets.

/// The width (and, for `K`, the kind) of one operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    U16,
    /// A `u16` index into the chunk's constants.
    K,
    /// A `u16` index into the chunk's constants, where an int is.
    KInt,
    U32,
}

impl Width {
    pub const fn bytes(self) -> usize {
        match self {
            Width::U16 | Width::K | Width::KInt => 2,
            Width::U32 => 4,
        }
    }
}

macro_rules! opcodes {
    ($( $(#[doc = $doc:literal])* $name:ident = $mnemonic:literal [$($width:ident),*] ; )*) => {
        /// A bytecode instruction. See the table in this module for each one's
        /// operands and stack effect.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Op {
            $( $(#[doc = $doc])* $name, )*
        }

        impl Op {
            /// Every opcode, in byte order.
            pub const ALL: &'static [Op] = &[$(Op::$name),*];

            /// Each opcode's size in bytes, indexed by its byte (a table,
            /// so that the interpreter's loop finds it with one load).
            pub const SIZES: [u8; 256] = {
                let mut sizes = [0u8; 256];
                let mut i = 0;
                while i < Op::ALL.len() {
                    sizes[i] = Op::ALL[i].size() as u8;
                    i += 1;
                }
                sizes
            };

            /// The opcode whose byte this is: one compare, no table load
            /// (the interpreter's loop does this for every instruction).
            /// Panics on a byte that is no opcode, which only a compiler
            /// bug could write (as `Op::ALL[byte]` would).
            #[inline(always)]
            pub fn decode(byte: u8) -> Op {
                assert!((byte as usize) < Op::ALL.len(), "no opcode has byte {byte}");
                // SAFETY: `Op` is `repr(u8)` with the default discriminants,
                // so its values are exactly the bytes below `ALL.len()`,
                // which `byte` is.
                unsafe { std::mem::transmute::<u8, Op>(byte) }
            }

            /// The mnemonic the disassembler prints.
            pub const fn name(self) -> &'static str {
                match self { $(Op::$name => $mnemonic,)* }
            }

            /// The widths of the operands that follow the opcode byte.
            pub const fn operands(self) -> &'static [Width] {
                match self { $(Op::$name => &[$(Width::$width),*],)* }
            }

            /// The bytes this instruction takes, opcode included.
            pub const fn size(self) -> usize {
                match self { $(Op::$name => 1 $(+ Width::$width.bytes())*,)* }
            }

            /// The stack effect, as documented on the variant.
            pub fn effect(self) -> &'static str {
                match self { $(Op::$name => first_doc(&[$($doc),*]),)* }
            }
        }
    };
}

fn first_doc(docs: &[&'static str]) -> &'static str {
    docs.first().map(|d| d.trim()).unwrap_or("")
}

opcodes! {
    /// [] -> [k]  push constant k
    Const = "CONST" [K];
    /// [] -> [nil]
    Nil = "NIL" [];
    /// [] -> [true]
    True = "TRUE" [];
    /// [] -> [false]
    False = "FALSE" [];
    /// [a] -> []  discard the top
    Pop = "POP" [];
    /// [a] -> [a a]
    Dup = "DUP" [];
    /// [a b] -> [a b a b]
    Dup2 = "DUP2" [];
    /// [a1..an] -> []  discard n values
    PopN = "POPN" [U16];
    /// [a1..an r] -> [r]  drop the n values under the top (leaving a scope)
    PopUnder = "POPUNDER" [U16];
    /// [] -> [local s]
    GetLocal = "GET_LOCAL" [U16];
    /// [v] -> []  local s = v
    SetLocal = "SET_LOCAL" [U16];
    /// [] -> [*local s]  read through the cell in local s (a captured local)
    GetCell = "GET_CELL" [U16];
    /// [v] -> []  *local s = v
    SetCell = "SET_CELL" [U16];
    /// [] -> []  local s = new cell holding local s (it is captured by a closure)
    MakeCell = "MAKE_CELL" [U16];
    /// [] -> [*capture i]  read the closure's i-th captured cell
    GetUpval = "GET_UPVAL" [U16];
    /// [v] -> []  *capture i = v
    SetUpval = "SET_UPVAL" [U16];
    /// [] -> [global g]
    GetGlobal = "GET_GLOBAL" [U16];
    /// [v] -> []  global g = v
    SetGlobal = "SET_GLOBAL" [U16];
    /// [] -> [closure]  make a closure of nested function f, capturing its cells
    Closure = "CLOSURE" [U16];
    /// [a b] -> [a+b]
    Add = "ADD" [];
    /// [a b] -> [a-b]
    Sub = "SUB" [];
    /// [a b] -> [a*b]
    Mul = "MUL" [];
    /// [a b] -> [a/b]
    Div = "DIV" [];
    /// [a b] -> [a%b]
    Rem = "REM" [];
    /// [a] -> [a+k]  add constant k (an int literal on the right of `+`)
    AddConst = "ADD_CONST" [KInt];
    /// [a] -> [a-k]  subtract constant k (an int literal on the right of `-`)
    SubConst = "SUB_CONST" [KInt];
    /// [a] -> [-a]
    Neg = "NEG" [];
    /// [a] -> [not a]
    Not = "NOT" [];
    /// [a b] -> [a==b]
    Eq = "EQ" [];
    /// [a b] -> [a!=b]
    Ne = "NE" [];
    /// [a b] -> [a<b]
    Lt = "LT" [];
    /// [a b] -> [a<=b]
    Le = "LE" [];
    /// [a b] -> [a>b]
    Gt = "GT" [];
    /// [a b] -> [a>=b]
    Ge = "GE" [];
    /// [] -> []  jump to t
    Jump = "JUMP" [U32];
    /// [c] -> []  jump to t if c is falsy
    JumpIfFalse = "JUMP_IF_FALSE" [U32];
    /// [a b] -> []  jump to t unless a<b (a condition's LT and JUMP_IF_FALSE)
    LtJump = "LT_JUMP" [U32];
    /// [a b] -> []  jump to t unless a<=b
    LeJump = "LE_JUMP" [U32];
    /// [a b] -> []  jump to t unless a>b
    GtJump = "GT_JUMP" [U32];
    /// [a b] -> []  jump to t unless a>=b
    GeJump = "GE_JUMP" [U32];
    /// [c] -> [c] if c is falsy (and jump to t), else [c] -> []  (for `and`)
    AndJump = "AND_JUMP" [U32];
    /// [c] -> [c] if c is truthy (and jump to t), else [c] -> []  (for `or`)
    OrJump = "OR_JUMP" [U32];
    /// [f a1..an] -> [f(a1..an)]  call with n arguments
    Call = "CALL" [U16];
    /// [r] -> (return r to the caller)
    Return = "RETURN" [];
    /// [a1..an] -> [[a1..an]]  build a list
    List = "LIST" [U16];
    /// [k1 v1..kn vn] -> [{k1: v1..}]  build a record
    Record = "RECORD" [U16];
    /// [x i] -> [x[i]]
    Index = "INDEX" [];
    /// [x i v] -> []  x[i] = v
    SetIndex = "SET_INDEX" [];
    /// [x] -> [x.k]  field named by constant k
    Field = "FIELD" [K];
    /// [x v] -> []  x.k = v
    SetField = "SET_FIELD" [K];
    /// [a1..an] -> [string]  join the display forms (string interpolation)
    Interp = "INTERP" [U16];
    /// [] -> [x] or jump to t: locals s, s+1 hold a list and an index; push
    /// the next item, or jump to t when the list is done
    IterNext = "ITER_NEXT" [U16, U32];
    /// [] -> [i] or jump to t: locals s, s+1 hold the next int and the end
    /// of a `for … in range(a, b)`; push the next and count up, or jump to t
    /// at the end (no list is built)
    RangeNext = "RANGE_NEXT" [U16, U32];
    /// [] -> [bool]  match local s (the scrutinee) against pattern p, binding
    /// into the locals that follow the scrutinee
    Match = "MATCH" [U16, U16];
    /// [] -> (runtime error: no arm matched local s)
    NoMatch = "NO_MATCH" [U16];
    /// [v] -> []  hand v to the engine if it is a message (a top-level
    /// expression statement); other values are discarded
    Emit = "EMIT" [];
    /// [xs ys] -> [xs]  append the items of the list ys to the fresh list xs
    /// (`..ys` among a call's arguments)
    Extend = "EXTEND" [];
    /// [f xs] -> [f(x1..xn)]  call with the items of the list xs as arguments
    CallList = "CALL_LIST" [];
    /// [] -> [local s + k]  a local plus constant k (`n + 1`, GET_LOCAL and
    /// ADD_CONST in one)
    LocalAddConst = "LOCAL_ADD_CONST" [U16, KInt];
    /// [] -> [local s - k]  a local minus constant k (`n - 1`)
    LocalSubConst = "LOCAL_SUB_CONST" [U16, KInt];
    /// [] -> []  jump to t unless local s < constant k (`if n < 2`:
    /// GET_LOCAL, CONST and LT_JUMP in one)
    LtJumpLocal = "LT_JUMP_LOCAL" [U16, KInt, U32];
    /// [] -> []  jump to t unless local s <= constant k
    LeJumpLocal = "LE_JUMP_LOCAL" [U16, KInt, U32];
    /// [] -> []  jump to t unless local s > constant k
    GtJumpLocal = "GT_JUMP_LOCAL" [U16, KInt, U32];
    /// [] -> []  jump to t unless local s >= constant k
    GeJumpLocal = "GE_JUMP_LOCAL" [U16, KInt, U32];
    /// [] -> (return local s to the caller: a GET_LOCAL that a RETURN, or
    /// a JUMP to one, follows; the instruction after it stays, for the
    /// jumps that reach it)
    ReturnLocal = "RETURN_LOCAL" [U16];
}

impl Op {
    pub fn from_byte(byte: u8) -> Option<Op> {
        Op::ALL.get(byte as usize).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_opcode_round_trips_through_its_byte() {
        for (i, &op) in Op::ALL.iter().enumerate() {
            assert_eq!(op as u8 as usize, i);
            assert_eq!(Op::from_byte(op as u8), Some(op));
        }
        assert_eq!(Op::from_byte(Op::ALL.len() as u8), None);
        assert_eq!(Op::ALL.len(), 65);
    }

    #[test]
    fn decode_is_the_byte_order() {
        for (i, &op) in Op::ALL.iter().enumerate() {
            assert_eq!(Op::decode(i as u8), op);
            assert_eq!(op as u8 as usize, i);
        }
    }

    #[test]
    fn every_opcode_documents_its_stack_effect() {
        for &op in Op::ALL {
            assert!(
                op.effect().starts_with('['),
                "{} has no stack effect",
                op.name()
            );
            assert!(!op.name().is_empty());
        }
        assert_eq!(Op::IterNext.size(), 7);
    }

    #[test]
    fn the_size_table_agrees_with_the_operands() {
        for &op in Op::ALL {
            assert_eq!(Op::SIZES[op as usize] as usize, op.size(), "{}", op.name());
        }
        assert!(Op::SIZES[Op::ALL.len()..].iter().all(|&s| s == 0));
    }
}

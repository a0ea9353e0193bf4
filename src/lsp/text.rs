//! Byte offsets (what the compiler's spans hold) to LSP positions (a line
//! and a count of UTF-16 code units, what the protocol's default encoding
//! counts) and back.

use lsp_types::{Position, Range};

use crate::syntax::Span;

/// Where each line of a text starts.
pub struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    pub fn new(text: &'t str) -> LineIndex<'t> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The position of a byte offset (clamped into the text and back onto a
    /// character boundary, so a stale span never panics).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let character = self.text[self.starts[line]..offset].encode_utf16().count();
        Position::new(line as u32, character as u32)
    }

    pub fn range(&self, span: Span) -> Range {
        Range::new(
            self.position(span.start as usize),
            self.position(span.end as usize),
        )
    }

    /// The byte offset of a position. A character past the end of its line
    /// means the line's end; a line past the last means the text's end.
    pub fn offset(&self, position: Position) -> usize {
        let Some(&start) = self.starts.get(position.line as usize) else {
            return self.text.len();
        };
        let line = &self.text[start..];
        let line = &line[..line.find('\n').unwrap_or(line.len())];
        let mut units = 0;
        for (i, c) in line.char_indices() {
            if units >= position.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        start + line.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let text = "let é = \"😀\"\nx";
        let index = LineIndex::new(text);
        let x = text.rfind('x').unwrap();
        assert_eq!(index.position(x), Position::new(1, 0));
        let quote = text.rfind('"').unwrap();
        // `let é = "` is 9 units, the emoji 2 more.
        assert_eq!(index.position(quote), Position::new(0, 11));
        assert_eq!(index.offset(Position::new(0, 11)), quote);
        assert_eq!(index.offset(Position::new(0, 99)), text.find('\n').unwrap());
        assert_eq!(index.offset(Position::new(7, 0)), text.len());
        // Inside a character: back to its start.
        assert_eq!(index.position(quote - 1), Position::new(0, 9));
    }
}

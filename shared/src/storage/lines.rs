//! Reading text lines with a length limit checked while reading: a line longer than the limit
//! is skipped as it streams past, never held whole (a 300 MB line must not cost 300 MB).

use std::io::{self, BufRead};

/// What reading one line gave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line {
    /// A line is in the buffer, without its newline.
    Read,
    /// The line was longer than the limit and was skipped; the buffer is empty.
    TooLong {
        /// Its length in bytes, without the newline.
        len: u64,
    },
    /// The end of the input: nothing was read.
    End,
}

/// Splits text arriving in pieces into lines, keeping at most `max` bytes of a line: a longer
/// line is skipped as it streams past (only its length is counted).
#[derive(Debug)]
pub struct LineSplitter {
    max: usize,
    /// The line so far (empty while skipping).
    line: Vec<u8>,
    /// Its length so far, skipped bytes included.
    len: u64,
    skipping: bool,
}

impl LineSplitter {
    /// A splitter keeping lines of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        Self {
            max,
            line: Vec::new(),
            len: 0,
            skipping: false,
        }
    }

    /// Takes `piece` up to and including its first newline; returns how many bytes it took and
    /// whether a line ended there (then [`LineSplitter::line`] holds it, or it was too long).
    pub fn feed(&mut self, piece: &[u8]) -> (usize, Option<Line>) {
        if self.len == 0 {
            // A new line: the previous one was handed out.
            self.line.clear();
        }
        let newline = memchr::memchr(b'\n', piece);
        let chunk = &piece[..newline.unwrap_or(piece.len())];
        self.len += chunk.len() as u64;
        if !self.skipping {
            if self.line.len() + chunk.len() > self.max {
                self.skipping = true;
                self.line.clear();
                self.line.shrink_to(self.max.min(64 * 1024));
            } else {
                self.line.extend_from_slice(chunk);
            }
        }
        let used = chunk.len() + usize::from(newline.is_some());
        (used, newline.map(|_| self.end_line()))
    }

    /// Ends the line where it is (the input ended without a newline); `None` when no byte of a
    /// line is pending.
    pub fn finish(&mut self) -> Option<Line> {
        (self.len > 0).then(|| self.end_line())
    }

    /// Whether part of a line has been taken.
    pub fn in_line(&self) -> bool {
        self.len > 0
    }

    /// Drops the part of a line taken so far (its input was lost).
    pub fn discard(&mut self) {
        self.line.clear();
        self.len = 0;
        self.skipping = false;
    }

    /// The line that just ended, without its newline (empty when it was too long); valid until
    /// the next [`LineSplitter::feed`].
    pub fn line(&self) -> &[u8] {
        &self.line
    }

    fn end_line(&mut self) -> Line {
        let line = if self.skipping {
            Line::TooLong { len: self.len }
        } else {
            Line::Read
        };
        self.len = 0;
        self.skipping = false;
        line
    }
}

/// Reads the next line of `r` into `buf` (cleared first), keeping at most `max` bytes of it.
/// Returns what was read and how many bytes of input it took (newline included).
pub fn read_line(
    r: &mut (impl BufRead + ?Sized),
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<(Line, u64)> {
    let mut splitter = LineSplitter {
        max,
        line: std::mem::take(buf),
        len: 0,
        skipping: false,
    };
    splitter.line.clear();
    let mut consumed = 0u64;
    let result = loop {
        let available = match r.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => break Err(e),
        };
        if available.is_empty() {
            break Ok((splitter.finish().unwrap_or(Line::End), consumed));
        }
        let (used, line) = splitter.feed(available);
        r.consume(used);
        consumed += used as u64;
        if let Some(line) = line {
            break Ok((line, consumed));
        }
    };
    *buf = splitter.line;
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufReader;

    #[test]
    fn lines_within_the_limit_are_read_and_longer_ones_skipped_as_they_stream() {
        let mut long = vec![b'x'; 1000];
        long.push(b'\n');
        let input = [b"short\n".as_slice(), &long, b"after\nlast"].concat();
        // A small buffer: the long line comes in many pieces.
        let mut r = BufReader::with_capacity(16, &input[..]);
        let mut buf = Vec::new();
        assert_eq!(read_line(&mut r, &mut buf, 100).unwrap(), (Line::Read, 6));
        assert_eq!(buf, b"short");
        assert_eq!(
            read_line(&mut r, &mut buf, 100).unwrap(),
            (Line::TooLong { len: 1000 }, 1001)
        );
        assert!(buf.is_empty());
        assert!(buf.capacity() <= 128, "nothing of the long line is kept");
        assert_eq!(read_line(&mut r, &mut buf, 100).unwrap(), (Line::Read, 6));
        assert_eq!(buf, b"after");
        assert_eq!(read_line(&mut r, &mut buf, 100).unwrap(), (Line::Read, 4));
        assert_eq!(buf, b"last");
        assert_eq!(read_line(&mut r, &mut buf, 100).unwrap(), (Line::End, 0));
    }
}

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

/// Reads the next line of `r` into `buf` (cleared first), keeping at most `max` bytes of it.
/// Returns what was read and how many bytes of input it took (newline included).
pub fn read_line(
    r: &mut (impl BufRead + ?Sized),
    buf: &mut Vec<u8>,
    max: usize,
) -> io::Result<(Line, u64)> {
    buf.clear();
    let (mut consumed, mut len, mut skipping) = (0u64, 0u64, false);
    loop {
        let available = match r.fill_buf() {
            Ok(a) => a,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            let line = match (consumed, skipping) {
                (0, _) => Line::End,
                (_, true) => Line::TooLong { len },
                (_, false) => Line::Read,
            };
            return Ok((line, consumed));
        }
        let newline = memchr::memchr(b'\n', available);
        let chunk = &available[..newline.unwrap_or(available.len())];
        len += chunk.len() as u64;
        if !skipping {
            if buf.len() + chunk.len() > max {
                skipping = true;
                buf.clear();
                buf.shrink_to(max.min(64 * 1024));
            } else {
                buf.extend_from_slice(chunk);
            }
        }
        let used = chunk.len() + usize::from(newline.is_some());
        r.consume(used);
        consumed += used as u64;
        if newline.is_some() {
            let line = if skipping {
                Line::TooLong { len }
            } else {
                Line::Read
            };
            return Ok((line, consumed));
        }
    }
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

//! Making attacker-chosen text safe to show in a terminal.
//!
//! Process arguments, file names and container names are chosen by whoever runs the process. Shown
//! as they are, an escape sequence in a file name can rewrite the analyst's screen, hide lines, or
//! (on some terminals) answer back. Every string the tools print goes through [`for_terminal`],
//! which keeps printable text and makes everything else visible:
//!
//! * C0 controls, DEL and C1 controls become `\xNN` (`\n`, `\t`, `\r` as themselves, escaped);
//! * a backslash is doubled, so `\x1b` typed literally cannot pass for an escaped ESC;
//! * Unicode bidirectional overrides and isolates (which can reorder what is shown) become `\u{NNNN}`;
//! * invalid UTF-8 bytes (from [`ByteString`]) become `\xNN` too.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::model::text::ByteString;

fn needs_escape(c: char) -> bool {
    c == '\\' || c.is_control() || is_bidi_control(c)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

fn escape_char(c: char, out: &mut String) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if (c as u32) < 0x100 && c.is_control() => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
        c => out.push(c),
    }
}

/// The text with every control character, escape sequence and bidi override made visible.
/// Borrowed when nothing had to change (the usual case).
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        escape_char(c, &mut out);
    }
    Cow::Owned(out)
}

/// A message of several lines (an error with its causes, a summary): each line as
/// [`for_terminal`] makes it, the line breaks kept. Every message the tools print on stderr
/// goes through this, as it may quote recorded text (host names, parser errors, paths).
pub fn message_for_terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && needs_escape(c)) {
        return Cow::Borrowed(s);
    }
    let lines: Vec<Cow<'_, str>> = s.split('\n').map(for_terminal).collect();
    Cow::Owned(lines.join("\n"))
}

/// Like [`for_terminal`], for bytes: invalid UTF-8 bytes are shown as `\xNN`.
pub fn bytes_for_terminal(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => for_terminal(s),
        Err(_) => {
            let mut out = String::with_capacity(bytes.len() + 8);
            for chunk in bytes.utf8_chunks() {
                for c in chunk.valid().chars() {
                    escape_char(c, &mut out);
                }
                for b in chunk.invalid() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            }
            Cow::Owned(out)
        }
    }
}

impl ByteString {
    /// The bytes as text that is safe to print to a terminal (see [`bytes_for_terminal`]).
    pub fn display_safe(&self) -> Cow<'_, str> {
        bytes_for_terminal(self.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        assert!(matches!(
            for_terminal("/usr/bin/dockerd -H fd://"),
            Cow::Borrowed(_)
        ));
        assert_eq!(for_terminal("päth ✓"), "päth ✓");
    }

    #[test]
    fn escape_sequences_and_controls_become_visible() {
        let hostile = "evil\x1b[2J\x1b]0;owned\x07\nline2\r\u{9b}31m";
        let safe = for_terminal(hostile);
        assert_eq!(safe, "evil\\x1b[2J\\x1b]0;owned\\x07\\nline2\\r\\x9b31m");
        assert!(!safe.chars().any(|c| c.is_control()));
    }

    #[test]
    fn a_literal_backslash_cannot_pass_for_an_escape() {
        assert_eq!(for_terminal(r"a\x1b"), r"a\\x1b");
    }

    #[test]
    fn a_message_keeps_its_lines_and_nothing_else() {
        let msg = "cannot read host evil\x1b[2J\u{9b}1m\u{202e}:\n  caused by: line 3\x07";
        let safe = message_for_terminal(msg);
        assert_eq!(
            safe,
            "cannot read host evil\\x1b[2J\\x9b1m\\u{202e}:\n  caused by: line 3\\x07"
        );
        assert!(!safe.chars().any(|c| c != '\n' && c.is_control()));
        assert!(matches!(message_for_terminal("a\nb"), Cow::Borrowed(_)));
    }

    #[test]
    fn bidi_overrides_are_shown() {
        assert_eq!(for_terminal("a\u{202E}txt.exe"), "a\\u{202e}txt.exe");
    }

    #[test]
    fn invalid_utf8_bytes_are_shown_as_hex() {
        let b = ByteString::from_bytes(vec![b'a', 0xff, 0x1b, b'b']);
        assert_eq!(b.display_safe(), "a\\xff\\x1bb");
    }
}

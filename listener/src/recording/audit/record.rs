//! One audit record: parsing the kernel's `key=value` text without copying each field.
//!
//! A [`Record`] keeps its bytes once and the spans of its fields; values are decoded only when
//! asked for ([`Value::text`], [`Value::dec`], ...). That keeps parsing at one pass over the line
//! and two allocations per record, whatever the number of fields.
//!
//! Two entry points:
//! * [`parse_log_line`]: a line of an auditd log, RAW or ENRICHED format
//!   (`[node=N ]type=T msg=audit(SEC.MS:SERIAL): fields[\x1dENRICHED fields]`);
//! * [`parse_netlink`]: the body of a datagram from the audit netlink socket, whose type comes
//!   as a number beside it (`audit(SEC.MS:SERIAL): fields`).
//!
//! Values follow the kernel's conventions (`audit_log_untrustedstring`): a string the kernel
//! could print safely is double-quoted; one with a space, a quote, a control or a non-ASCII byte
//! is written as uppercase hex without quotes. So a quoted value is always text, and an unquoted
//! even-length uppercase-hex value of a string field is hex. Only the caller knows which fields
//! are string fields, so the decision is made by [`Value::text`] when the caller asks for a
//! string, not while parsing. User-space records nest a second list in `msg='...'`; its fields
//! are parsed too and found by the same lookups. Record types the table does not know are kept
//! (as `UNKNOWN[n]` or by their name), never dropped.

use std::borrow::Cow;
use std::sync::LazyLock;

use dockwatch_shared::{ByteString, Timestamp};

use super::tables::RECORD_TYPES;

/// Record type numbers the assembler treats specially.
pub mod types {
    /// `DAEMON_START`: auditd started (it writes this before the kernel sends it anything).
    pub const DAEMON_START: u16 = 1200;
    /// `SYSCALL`: the syscall's context; starts a syscall event.
    pub const SYSCALL: u16 = 1300;
    /// `PATH`: one name the syscall looked up.
    pub const PATH: u16 = 1302;
    /// `CWD`: the working directory.
    pub const CWD: u16 = 1307;
    /// `EXECVE`: the arguments of an execve.
    pub const EXECVE: u16 = 1309;
    /// `EOE`: end of a multi-record event (netlink only; auditd does not log it).
    pub const EOE: u16 = 1320;
    /// `PROCTITLE`: the process title; the last record of a syscall event before `EOE`.
    pub const PROCTITLE: u16 = 1327;
}

/// The ENRICHED log format separates the kernel's fields from those auditd added with this byte.
const ENRICHED_SEPARATOR: u8 = 0x1d;

/// Longest record accepted; the kernel's limit is 8970 bytes, an EXECVE record stays below it.
/// Spans are `u32`, so anything far longer is refused instead of being cut silently.
pub const MAX_RECORD_LEN: usize = 1 << 24;

/// Why a line or datagram is not an audit record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Nothing but white space.
    #[error("empty line")]
    Empty,
    /// A log line without `type=`.
    #[error("no `type=` at the start of the line: not an auditd log line")]
    MissingType,
    /// The type name is not `NAME` or `UNKNOWN[n]`.
    #[error("bad record type `{0}`")]
    BadType(String),
    /// No `msg=audit(` (log line) or `audit(` (netlink) header.
    #[error("no `msg=audit(SECONDS.MILLIS:SERIAL):` header")]
    MissingHeader,
    /// The header's time or serial is not a number.
    #[error("bad `audit(SECONDS.MILLIS:SERIAL)` header: {0}")]
    BadHeader(&'static str),
    /// A quoted value has no closing quote.
    #[error("value of `{0}` has no closing quote")]
    UnterminatedQuote(String),
    /// The record is longer than [`MAX_RECORD_LEN`].
    #[error("record of {0} bytes is longer than the {MAX_RECORD_LEN}-byte limit")]
    TooLong(usize),
}

#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn new(start: usize, end: usize) -> Self {
        // Lengths are checked against MAX_RECORD_LEN before any span is made.
        Self {
            start: start as u32,
            end: end as u32,
        }
    }

    fn get(self, bytes: &[u8]) -> &[u8] {
        bytes
            .get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}

/// How a value was written.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Quote {
    /// Bare: a number, a word, or hex-encoded bytes.
    None,
    /// `"..."`: text.
    Double,
    /// `'...'`: a nested field list (user-space `msg='...'`).
    Single,
}

#[derive(Copy, Clone, Debug)]
struct Field {
    key: Span,
    value: Span,
    quote: Quote,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum TypeName {
    Known(&'static str),
    Other(Box<str>),
}

/// One parsed audit record.
#[derive(Clone, Debug)]
pub struct Record {
    bytes: Vec<u8>,
    rtype: u16,
    type_name: TypeName,
    time: Timestamp,
    serial: u64,
    node: Option<Span>,
    fields: Vec<Field>,
    /// Index in `fields` of the first ENRICHED field (`fields.len()` when there are none).
    enriched: usize,
}

/// A field's value, borrowed from its record.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Value<'a> {
    raw: &'a [u8],
    quote: Quote,
}

impl<'a> Value<'a> {
    /// The bytes as written, without quotes.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// How the value was written.
    pub fn quote(&self) -> Quote {
        self.quote
    }

    /// The value of a string field: quoted text as it is, an unquoted even-length uppercase-hex
    /// value decoded, `(null)` and `(none)` as absent, anything else as written.
    pub fn text(&self) -> Option<Cow<'a, [u8]>> {
        match self.quote {
            Quote::Double | Quote::Single => Some(Cow::Borrowed(self.raw)),
            Quote::None => {
                if self.raw == b"(null)" || self.raw == b"(none)" {
                    None
                } else if is_upper_hex(self.raw) {
                    Some(Cow::Owned(decode_hex(self.raw)))
                } else {
                    Some(Cow::Borrowed(self.raw))
                }
            }
        }
    }

    /// [`Value::text`] as a [`ByteString`].
    pub fn byte_string(&self) -> Option<ByteString> {
        self.text().map(|t| ByteString::from_bytes(t.into_owned()))
    }

    /// A decimal number (`pid=`, `exit=`, `argc=`), optionally negative; `None` when it is not
    /// one or does not fit `T`. (Parsed from the bytes directly: the std parsers need a `&str`
    /// first, and this runs several times for every record.)
    pub fn dec<T: TryFrom<i128>>(&self) -> Option<T> {
        let (neg, digits) = match self.raw.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, self.raw),
        };
        if digits.is_empty() || digits.len() > 20 {
            return None;
        }
        let mut v: i128 = 0;
        for &c in digits {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i128::from(c - b'0');
        }
        T::try_from(if neg { -v } else { v }).ok()
    }

    /// A hex number without `0x` (`a0=`, `arch=`, `flags` in syscall arguments).
    pub fn hex(&self) -> Option<u64> {
        if self.raw.is_empty() || self.raw.len() > 16 {
            return None;
        }
        let mut v: u64 = 0;
        for &c in self.raw {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return None,
            };
            v = (v << 4) | u64::from(d);
        }
        Some(v)
    }

    /// An octal number (`mode=` of PATH records).
    pub fn oct(&self) -> Option<u32> {
        let s = std::str::from_utf8(self.raw).ok()?;
        u32::from_str_radix(s, 8).ok()
    }
}

fn is_upper_hex(b: &[u8]) -> bool {
    !b.is_empty() && b.len() % 2 == 0 && b.iter().all(|c| matches!(c, b'0'..=b'9' | b'A'..=b'F'))
}

fn hex_digit(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'A'..=b'F' => c - b'A' + 10,
        b'a'..=b'f' => c - b'a' + 10,
        _ => 0,
    }
}

/// Decodes hex digits (both cases); callers check the digits first.
pub(crate) fn decode_hex(b: &[u8]) -> Vec<u8> {
    b.chunks_exact(2)
        .map(|p| (hex_digit(p[0]) << 4) | hex_digit(p[1]))
        .collect()
}

static TYPE_BY_NAME: LazyLock<rustc_hash::FxHashMap<&'static [u8], (u16, &'static str)>> =
    LazyLock::new(|| {
        RECORD_TYPES
            .iter()
            .map(|&(nr, name)| (name.as_bytes(), (nr, name)))
            .collect()
    });

/// The name of a record type number (`SYSCALL`), if the table knows it.
pub fn type_name(rtype: u16) -> Option<&'static str> {
    RECORD_TYPES
        .binary_search_by_key(&rtype, |&(nr, _)| nr)
        .ok()
        .map(|i| RECORD_TYPES[i].1)
}

impl Record {
    /// The record type number (0 for a name the table does not know and that is not `UNKNOWN[n]`).
    pub fn rtype(&self) -> u16 {
        self.rtype
    }

    /// The record type name as auditd writes it (`SYSCALL`, `UNKNOWN[1334]`).
    pub fn type_name(&self) -> &str {
        match &self.type_name {
            TypeName::Known(s) => s,
            TypeName::Other(s) => s,
        }
    }

    /// The record type name, borrowed from the table when it is a known type.
    pub fn type_name_owned(&self) -> dockwatch_shared::model::event::Name {
        match &self.type_name {
            TypeName::Known(s) => (*s).into(),
            TypeName::Other(s) => String::from(&**s).into(),
        }
    }

    /// When the kernel stamped the record.
    pub fn time(&self) -> Timestamp {
        self.time
    }

    /// The serial number shared by the records of one kernel event.
    pub fn serial(&self) -> u64 {
        self.serial
    }

    /// The `node=` name auditd prefixed the line with, when it did.
    pub fn node(&self) -> Option<&[u8]> {
        self.node.map(|s| s.get(&self.bytes))
    }

    /// The value of a kernel field (the first with that name, nested `msg='...'` fields included).
    pub fn get(&self, key: &str) -> Option<Value<'_>> {
        self.find(&self.fields[..self.enriched], key.as_bytes())
    }

    /// The value of a field auditd added in the ENRICHED format (`SYSCALL`, `UID`, ...).
    pub fn enriched(&self, key: &str) -> Option<Value<'_>> {
        self.find(&self.fields[self.enriched..], key.as_bytes())
    }

    /// Whether the line was in the ENRICHED format.
    pub fn is_enriched(&self) -> bool {
        self.enriched < self.fields.len()
    }

    /// All kernel fields in order, as (key, value).
    pub fn fields(&self) -> impl Iterator<Item = (&[u8], Value<'_>)> {
        self.fields[..self.enriched].iter().map(|f| self.pair(f))
    }

    /// All ENRICHED fields in order, as (key, value).
    pub fn enriched_fields(&self) -> impl Iterator<Item = (&[u8], Value<'_>)> {
        self.fields[self.enriched..].iter().map(|f| self.pair(f))
    }

    fn pair(&self, f: &Field) -> (&[u8], Value<'_>) {
        (
            f.key.get(&self.bytes),
            Value {
                raw: f.value.get(&self.bytes),
                quote: f.quote,
            },
        )
    }

    fn find(&self, fields: &[Field], key: &[u8]) -> Option<Value<'_>> {
        fields.iter().find_map(|f| {
            (f.key.get(&self.bytes) == key).then(|| Value {
                raw: f.value.get(&self.bytes),
                quote: f.quote,
            })
        })
    }
}

/// Parses one line of an auditd log (RAW or ENRICHED; a trailing newline is ignored).
pub fn parse_log_line(line: &[u8]) -> Result<Record, ParseError> {
    let line = trim_end(line);
    if line.len() > MAX_RECORD_LEN {
        return Err(ParseError::TooLong(line.len()));
    }
    let start = line.iter().position(|&c| c != b' ').unwrap_or(line.len());
    if start == line.len() {
        return Err(ParseError::Empty);
    }
    let bytes = line.to_vec();
    let mut pos = start;
    let mut node = None;
    if bytes[pos..].starts_with(b"node=") {
        let vstart = pos + 5;
        let vend = memchr::memchr(b' ', &bytes[vstart..]).map_or(bytes.len(), |i| vstart + i);
        node = Some(Span::new(vstart, vend));
        pos = skip_spaces(&bytes, vend);
    }
    if !bytes[pos..].starts_with(b"type=") {
        return Err(ParseError::MissingType);
    }
    let tstart = pos + 5;
    let tend = memchr::memchr(b' ', &bytes[tstart..]).map_or(bytes.len(), |i| tstart + i);
    let (rtype, type_name) = type_from_name(&bytes[tstart..tend])?;
    pos = skip_spaces(&bytes, tend);
    if !bytes[pos..].starts_with(b"msg=") {
        return Err(ParseError::MissingHeader);
    }
    pos += 4;
    finish(bytes, pos, rtype, type_name, node)
}

/// Parses a datagram body from the audit netlink socket, given its type number.
pub fn parse_netlink(rtype: u16, body: &[u8]) -> Result<Record, ParseError> {
    let mut end = body.len();
    while end > 0 && matches!(body[end - 1], 0 | b'\n') {
        end -= 1;
    }
    let body = &body[..end];
    if body.len() > MAX_RECORD_LEN {
        return Err(ParseError::TooLong(body.len()));
    }
    let type_name = match type_name(rtype) {
        Some(n) => TypeName::Known(n),
        None => TypeName::Other(format!("UNKNOWN[{rtype}]").into_boxed_str()),
    };
    let bytes = body.to_vec();
    let pos = skip_spaces(&bytes, 0);
    finish(bytes, pos, rtype, type_name, None)
}

fn trim_end(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r') {
        end -= 1;
    }
    &line[..end]
}

fn skip_spaces(b: &[u8], mut pos: usize) -> usize {
    while pos < b.len() && b[pos] == b' ' {
        pos += 1;
    }
    pos
}

fn type_from_name(name: &[u8]) -> Result<(u16, TypeName), ParseError> {
    if let Some(&(nr, n)) = TYPE_BY_NAME.get(name) {
        return Ok((nr, TypeName::Known(n)));
    }
    let text = std::str::from_utf8(name)
        .map_err(|_| ParseError::BadType(String::from_utf8_lossy(name).into_owned()))?;
    if let Some(num) = text
        .strip_prefix("UNKNOWN[")
        .and_then(|r| r.strip_suffix(']'))
    {
        let nr = num
            .parse::<u16>()
            .map_err(|_| ParseError::BadType(text.to_owned()))?;
        return Ok((nr, TypeName::Other(text.into())));
    }
    let valid = !text.is_empty()
        && text
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
    if !valid {
        return Err(ParseError::BadType(text.chars().take(64).collect()));
    }
    Ok((0, TypeName::Other(text.into())))
}

/// Parses `audit(SEC.MS:SERIAL):` at `pos` and the fields after it.
fn finish(
    bytes: Vec<u8>,
    pos: usize,
    rtype: u16,
    type_name: TypeName,
    node: Option<Span>,
) -> Result<Record, ParseError> {
    let rest = &bytes[pos..];
    if !rest.starts_with(b"audit(") {
        return Err(ParseError::MissingHeader);
    }
    let mut p = pos + 6;
    let (secs, n) = digits(&bytes[p..]);
    if n == 0 {
        return Err(ParseError::BadHeader("no seconds"));
    }
    p += n;
    if bytes.get(p) != Some(&b'.') {
        return Err(ParseError::BadHeader("no `.` after the seconds"));
    }
    p += 1;
    let (frac, n) = digits(&bytes[p..]);
    if n == 0 || n > 9 {
        return Err(ParseError::BadHeader("bad fraction of a second"));
    }
    // auditd writes milliseconds (3 digits); accept other precisions as fractions.
    let millis = match n {
        3 => frac,
        1 | 2 => frac * 10u64.pow(3 - n as u32),
        _ => frac / 10u64.pow(n as u32 - 3),
    };
    p += n;
    if bytes.get(p) != Some(&b':') {
        return Err(ParseError::BadHeader("no `:` before the serial"));
    }
    p += 1;
    let (serial, n) = digits(&bytes[p..]);
    if n == 0 {
        return Err(ParseError::BadHeader("no serial"));
    }
    p += n;
    if bytes.get(p) != Some(&b')') {
        return Err(ParseError::BadHeader("no `)` after the serial"));
    }
    p += 1;
    if bytes.get(p) == Some(&b':') {
        p += 1;
    }
    // An impossible time (at or before the epoch, beyond year 9999, overflowing) keeps the
    // record, whose content is evidence, with time 0: the pipeline gives it its neighbour's.
    let time = i64::try_from(secs)
        .ok()
        .zip(u32::try_from(millis).ok())
        .and_then(|(secs, millis)| Timestamp::from_secs_millis(secs, millis))
        .unwrap_or_default();
    let mut fields = Vec::with_capacity(field_estimate(rtype));
    let mut enriched = None;
    parse_fields(&bytes, p, bytes.len(), &mut fields, &mut enriched, true)?;
    let enriched = enriched.unwrap_or(fields.len());
    Ok(Record {
        bytes,
        rtype,
        type_name,
        time,
        serial,
        node,
        fields,
        enriched,
    })
}

fn field_estimate(rtype: u16) -> usize {
    match rtype {
        types::SYSCALL => 40,
        types::PATH => 20,
        _ => 8,
    }
}

/// Reads decimal digits; returns the value (saturating) and how many digits there were.
fn digits(b: &[u8]) -> (u64, usize) {
    let mut v: u64 = 0;
    let mut n = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            break;
        }
        v = v.saturating_mul(10).saturating_add(u64::from(c - b'0'));
        n += 1;
    }
    (v, n)
}

/// Scans `key=value` pairs in `bytes[from..to]`. Tokens without `=` (free text in some
/// records, such as AVC's `{ read }`) are skipped.
fn parse_fields(
    bytes: &[u8],
    from: usize,
    to: usize,
    fields: &mut Vec<Field>,
    enriched: &mut Option<usize>,
    top: bool,
) -> Result<(), ParseError> {
    let mut i = from;
    while i < to {
        let c = bytes[i];
        if c == b' ' {
            i += 1;
            continue;
        }
        if c == ENRICHED_SEPARATOR {
            if top && enriched.is_none() {
                *enriched = Some(fields.len());
            }
            i += 1;
            continue;
        }
        let kstart = i;
        while i < to && !matches!(bytes[i], b'=' | b' ' | ENRICHED_SEPARATOR) {
            i += 1;
        }
        if i >= to || bytes[i] != b'=' {
            continue;
        }
        let key = Span::new(kstart, i);
        i += 1;
        match bytes.get(i) {
            Some(&q @ (b'"' | b'\'')) if i < to => {
                let vstart = i + 1;
                let Some(close) = memchr::memchr(q, &bytes[vstart..to]) else {
                    return Err(ParseError::UnterminatedQuote(
                        String::from_utf8_lossy(key.get(bytes)).into_owned(),
                    ));
                };
                let vend = vstart + close;
                let quote = if q == b'"' {
                    Quote::Double
                } else {
                    Quote::Single
                };
                fields.push(Field {
                    key,
                    value: Span::new(vstart, vend),
                    quote,
                });
                if quote == Quote::Single {
                    parse_fields(bytes, vstart, vend, fields, enriched, false)?;
                }
                i = vend + 1;
            }
            _ => {
                let vstart = i;
                let vend = memchr::memchr2(b' ', ENRICHED_SEPARATOR, &bytes[vstart..to])
                    .map_or(to, |n| vstart + n);
                fields.push(Field {
                    key,
                    value: Span::new(vstart, vend),
                    quote: Quote::None,
                });
                i = vend;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSCALL: &[u8] = b"type=SYSCALL msg=audit(1795865985.763:160): arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=38995bb8 a2=241 a3=1b6 items=14 ppid=18186 pid=18209 auid=4294967295 uid=0 gid=4242 euid=0 suid=0 fsuid=0 egid=4242 sgid=4242 fsgid=4242 tty=(none) ses=4294967295 comm=\"sh\" exe=\"/bin/busybox\" key=\"dockwatch_fixture\"\n";

    #[test]
    fn parses_the_header_and_fields_of_a_real_syscall_record() {
        let r = parse_log_line(SYSCALL).unwrap();
        assert_eq!(r.rtype(), types::SYSCALL);
        assert_eq!(r.type_name(), "SYSCALL");
        assert_eq!(r.serial(), 160);
        assert_eq!(
            r.time(),
            Timestamp::from_secs_millis(1_795_865_985, 763).unwrap()
        );
        assert_eq!(r.get("arch").unwrap().hex(), Some(0xc000003e));
        assert_eq!(r.get("exit").unwrap().dec::<i64>(), Some(3));
        assert_eq!(r.get("auid").unwrap().dec::<u32>(), Some(4_294_967_295));
        assert_eq!(r.get("auid").unwrap().dec::<i32>(), None, "does not fit");
        assert_eq!(r.get("comm").unwrap().dec::<i32>(), None);
        assert_eq!(r.get("a1").unwrap().hex(), Some(0x38995bb8));
        assert_eq!(r.get("a0").unwrap().hex(), Some(0xffffff9c));
        assert_eq!(r.get("comm").unwrap().text().unwrap().as_ref(), b"sh");
        assert_eq!(r.get("tty").unwrap().text(), None);
        assert_eq!(r.get("key").unwrap().quote(), Quote::Double);
        assert!(r.get("nope").is_none());
        assert!(!r.is_enriched());
    }

    #[test]
    fn hex_against_quotes() {
        let r = parse_log_line(b"type=PATH msg=audit(1.000:2): item=1 name=612066696C65 a=\"ABCD\" b=6F646401FF c=ABC d=(null) nametype=CREATE").unwrap();
        assert_eq!(r.get("name").unwrap().text().unwrap().as_ref(), b"a file");
        // Quoted: text, even when it looks like hex.
        assert_eq!(r.get("a").unwrap().text().unwrap().as_ref(), b"ABCD");
        // Non-UTF-8 bytes survive.
        assert_eq!(
            r.get("b").unwrap().byte_string().unwrap().as_bytes(),
            b"odd\x01\xff"
        );
        // Odd length: not hex, kept as written.
        assert_eq!(r.get("c").unwrap().text().unwrap().as_ref(), b"ABC");
        assert_eq!(r.get("d").unwrap().text(), None);
        assert_eq!(r.get("nametype").unwrap().raw(), b"CREATE");
    }

    #[test]
    fn enriched_fields_come_after_the_separator() {
        let line = b"type=SYSCALL msg=audit(1795865987.291:353): arch=c000003e syscall=82 key=\"k\"\x1dARCH=x86_64 SYSCALL=rename AUID=\"unset\" UID=\"root\"";
        let r = parse_log_line(line).unwrap();
        assert!(r.is_enriched());
        assert_eq!(r.get("key").unwrap().raw(), b"k");
        assert_eq!(r.enriched("SYSCALL").unwrap().raw(), b"rename");
        assert_eq!(r.enriched("AUID").unwrap().raw(), b"unset");
        assert!(
            r.get("SYSCALL").is_none(),
            "enriched fields do not shadow kernel ones"
        );
        let line = b"type=DAEMON_START msg=audit(1.955:905): op=start res=success\x1dAUID=\"unset\" UID=\"root\"";
        let r = parse_log_line(line).unwrap();
        assert_eq!(r.get("res").unwrap().raw(), b"success");
        assert_eq!(r.enriched("UID").unwrap().raw(), b"root");
    }

    #[test]
    fn nested_msg_and_node_and_unknown_types() {
        let line = b"node=web-1 type=USER_START msg=audit(1700000000.123:77): pid=1 uid=0 auid=1000 ses=3 msg='op=PAM:session_open acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? res=success'";
        let r = parse_log_line(line).unwrap();
        assert_eq!(r.node(), Some(&b"web-1"[..]));
        assert_eq!(r.rtype(), 1105);
        assert_eq!(r.get("msg").unwrap().quote(), Quote::Single);
        assert_eq!(r.get("acct").unwrap().raw(), b"root");
        assert_eq!(r.get("exe").unwrap().raw(), b"/usr/sbin/sshd");
        assert_eq!(r.get("res").unwrap().raw(), b"success");

        let r = parse_log_line(b"type=UNKNOWN[1999] msg=audit(1.5:9): x=1").unwrap();
        assert_eq!((r.rtype(), r.type_name()), (1999, "UNKNOWN[1999]"));
        let r = parse_log_line(b"type=BRAND_NEW msg=audit(1.5:9): x=1").unwrap();
        assert_eq!((r.rtype(), r.type_name()), (0, "BRAND_NEW"));
        assert_eq!(r.time(), Timestamp::from_secs_millis(1, 500).unwrap());
    }

    #[test]
    fn netlink_bodies_have_no_type_field() {
        let r = parse_netlink(1307, b"audit(1795865985.735:150): cwd=\"/\"\0").unwrap();
        assert_eq!(r.type_name(), "CWD");
        assert_eq!(r.get("cwd").unwrap().raw(), b"/");
        let r = parse_netlink(1999, b"audit(1.000:1): a=b").unwrap();
        assert_eq!(r.type_name(), "UNKNOWN[1999]");
    }

    #[test]
    fn malformed_lines_are_errors() {
        assert_eq!(parse_log_line(b"").unwrap_err(), ParseError::Empty);
        assert_eq!(
            parse_log_line(b"hello").unwrap_err(),
            ParseError::MissingType
        );
        assert_eq!(
            parse_log_line(b"type=SYSCALL arch=1").unwrap_err(),
            ParseError::MissingHeader
        );
        assert!(matches!(
            parse_log_line(b"type=SYSCALL msg=audit(12:3): a=1").unwrap_err(),
            ParseError::BadHeader(_)
        ));
        assert!(matches!(
            parse_log_line(b"type=SYSCALL msg=audit(1.000:3): comm=\"sh").unwrap_err(),
            ParseError::UnterminatedQuote(k) if k == "comm"
        ));
        assert!(matches!(
            parse_log_line(b"type=sys\xff msg=audit(1.000:3):").unwrap_err(),
            ParseError::BadType(_)
        ));
    }

    #[test]
    fn free_text_tokens_are_skipped() {
        let r = parse_log_line(
            b"type=AVC msg=audit(1.000:3): avc:  denied  { read } for  pid=5 comm=\"x\"",
        )
        .unwrap();
        assert_eq!(r.get("pid").unwrap().dec::<i32>(), Some(5));
        assert_eq!(r.fields().count(), 2);
    }
}

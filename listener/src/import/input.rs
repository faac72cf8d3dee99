//! Opening an auditd log: plain, gzip or zstd, told apart by the file's first bytes (so a
//! rotated `audit.log.1.gz` or a renamed file works whatever its suffix), read line by line.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use dockwatch_shared::Timestamp;
use dockwatch_shared::storage::lines::{Line, read_line};

use crate::recording::audit::parse_log_line;
use crate::recording::audit::record::MAX_RECORD_LEN;

/// Buffer size for reading: a 100 MB log takes 1,600 reads, which cost nothing next to parsing,
/// and the buffer (two of them for a compressed log) stays small beside the import's tables.
const BUFFER: usize = 64 * 1024;

/// How the file is compressed.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Not compressed.
    Plain,
    /// gzip (`.gz`), possibly several members as `cat a.gz b.gz` makes.
    Gzip,
    /// zstd (`.zst`), possibly several frames.
    Zstd,
}

/// Why the log could not be read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be opened.
    #[error("cannot open the audit log {path}")]
    Open {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// Reading (or decompressing) failed part way.
    #[error("cannot read the audit log {path} after {offset} bytes of text")]
    Read {
        /// The file.
        path: PathBuf,
        /// Bytes of the (decompressed) log read before the error.
        offset: u64,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

/// Counts the bytes read from the file itself (compressed), for progress.
struct Counted<R> {
    inner: R,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// An open audit log, read line by line into a reused buffer.
pub struct LogReader {
    path: PathBuf,
    inner: Box<dyn BufRead + Send>,
    compression: Compression,
    /// A pipe, FIFO or character device (`--audit-log /dev/stdin`, `<(zcat ...)`): it can be
    /// read only once.
    stream: bool,
    file_len: u64,
    file_read: std::sync::Arc<std::sync::atomic::AtomicU64>,
    offset: u64,
}

/// A stream's first bytes, read ahead by [`LogReader::with_head`], then the rest of the stream.
/// Written by hand because `Cursor::chain` keeps the bytes until the reader goes and cannot
/// hand back an error met while reading ahead; here the bytes are freed once read again, and
/// the error comes right after them, where the stream broke.
struct Replay {
    head: Vec<u8>,
    at: usize,
    error: Option<io::Error>,
    rest: Box<dyn BufRead + Send>,
}

impl Read for Replay {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Replay {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.at < self.head.len() {
            return Ok(&self.head[self.at..]);
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.rest.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        if self.at < self.head.len() {
            self.at += n;
            if self.at >= self.head.len() {
                self.head = Vec::new();
                self.at = 0;
            }
        } else {
            self.rest.consume(n);
        }
    }
}

/// Detects the compression from the first bytes.
pub fn sniff(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::Plain
    }
}

impl LogReader {
    /// Opens `path`, detecting its compression.
    pub fn open(path: &Path) -> Result<Self, InputError> {
        let open_err = |source| InputError::Open {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(open_err)?;
        let meta = file.metadata().map_err(open_err)?;
        let (stream, file_len) = (!meta.is_file(), meta.len());
        let file_read = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let mut raw = BufReader::with_capacity(
            BUFFER,
            Counted {
                inner: file,
                count: file_read.clone(),
            },
        );
        let compression = sniff(raw.fill_buf().map_err(open_err)?);
        let inner: Box<dyn BufRead + Send> = match compression {
            Compression::Plain => Box::new(raw),
            Compression::Gzip => Box::new(BufReader::with_capacity(
                BUFFER,
                flate2::bufread::MultiGzDecoder::new(raw),
            )),
            Compression::Zstd => Box::new(BufReader::with_capacity(
                BUFFER,
                zstd::stream::read::Decoder::with_buffer(raw).map_err(open_err)?,
            )),
        };
        Ok(Self {
            path: path.to_owned(),
            inner,
            compression,
            stream,
            file_len,
            file_read,
            offset: 0,
        })
    }

    /// The file as given.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the log can be read only once (a pipe, FIFO or character device).
    pub fn is_stream(&self) -> bool {
        self.stream
    }

    /// Calls `f` with the first `n` bytes of the (decompressed) log, fewer when it is shorter,
    /// without consuming them: the lines read afterwards still start at the beginning. This is
    /// for a log that can be read only once (a file can simply be opened twice): the bytes stay
    /// in memory until they have been read again. When the log cannot be read that far (a cut
    /// `.gz`), `f` gets its whole lines up to the damage, and the error comes back to
    /// [`LogReader::next_line`] at that point.
    pub fn with_head<T>(&mut self, n: usize, f: impl FnOnce(&[u8]) -> T) -> T {
        let mut head = Vec::new();
        let error = (&mut self.inner)
            .take(n as u64)
            .read_to_end(&mut head)
            .err();
        let whole_lines = match error {
            Some(_) => head.iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1),
            None => head.len(),
        };
        let result = f(&head[..whole_lines]);
        let rest = std::mem::replace(&mut self.inner, Box::new(io::empty()));
        self.inner = Box::new(Replay {
            head,
            at: 0,
            error,
            rest,
        });
        result
    }

    /// The detected compression.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Size of the file on disk.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// Bytes of the file on disk read so far (compressed bytes for a compressed file).
    pub fn file_read(&self) -> u64 {
        self.file_read.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Reads the next line (without its newline) into `buf`. A line longer than a record can
    /// be ([`MAX_RECORD_LEN`]) is skipped while it is read, never held whole.
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> Result<Line, InputError> {
        let (line, n) =
            read_line(&mut self.inner, buf, MAX_RECORD_LEN).map_err(|source| InputError::Read {
                path: self.path.clone(),
                offset: self.offset,
                source,
            })?;
        self.offset += n;
        Ok(line)
    }
}

/// Bytes of each log looked at for its first record, to order the logs.
const FIRST_RECORD_SCAN: usize = 256 * 1024;

/// The time and serial of the first record in `head`.
fn first_record(head: &[u8]) -> Option<(Timestamp, u64)> {
    head.split(|&c| c == b'\n')
        .find_map(|l| parse_log_line(l).ok())
        .map(|r| (r.time(), r.serial()))
}

/// The logs of one import, read one after the other in the order their records were written:
/// by the time (then the serial) of each one's first record, whatever order they were given
/// in. auditd's rotation names the newest `audit.log` and the older ones `audit.log.1`,
/// `audit.log.2`..., which a shell's `audit.log*` lists newest first.
pub struct Logs {
    queue: VecDeque<LogReader>,
    /// Lines read from the current log.
    lines: u64,
}

impl Logs {
    /// Opens every log of `paths` and orders them by their first record (logs without a
    /// record at their start come last, in the order given).
    pub fn open(paths: &[PathBuf]) -> Result<Self, InputError> {
        let mut logs = Vec::with_capacity(paths.len());
        for (given, path) in paths.iter().enumerate() {
            let mut reader = LogReader::open(path)?;
            let first = reader.with_head(FIRST_RECORD_SCAN, first_record);
            logs.push((first.is_none(), first, given, reader));
        }
        logs.sort_by_key(|(none, first, given, _)| (*none, *first, *given));
        Ok(Self {
            queue: logs.into_iter().map(|(_, _, _, r)| r).collect(),
            lines: 0,
        })
    }

    /// One log.
    pub fn one(reader: LogReader) -> Self {
        Self {
            queue: VecDeque::from([reader]),
            lines: 0,
        }
    }

    /// The log being read (the first one before reading).
    pub fn current(&self) -> Option<&LogReader> {
        self.queue.front()
    }

    /// The first log, to derive the import's host and boot id from.
    pub fn first_mut(&mut self) -> Option<&mut LogReader> {
        self.queue.front_mut()
    }

    /// How many logs are left to read (the current one included).
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True when every log has been read.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The logs' paths, in reading order.
    pub fn paths(&self) -> Vec<&Path> {
        self.queue.iter().map(LogReader::path).collect()
    }

    /// Where the next line comes from: the current log and the line's number in it.
    pub fn position(&self) -> (Option<&Path>, u64) {
        (self.current().map(LogReader::path), self.lines + 1)
    }

    /// Reads the next line of the logs, going on to the next log at the end of one. On an
    /// error, [`Logs::skip_current`] gives up on the damaged log.
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> Result<Line, InputError> {
        while let Some(reader) = self.queue.front_mut() {
            match reader.next_line(buf)? {
                Line::End => {
                    self.queue.pop_front();
                    self.lines = 0;
                }
                line => {
                    self.lines += 1;
                    return Ok(line);
                }
            }
        }
        Ok(Line::End)
    }

    /// Gives up on the current log (it could not be read further) and goes on with the next.
    pub fn skip_current(&mut self) {
        self.queue.pop_front();
        self.lines = 0;
    }

    /// Size on disk of the logs left, for progress.
    pub fn file_len(&self) -> u64 {
        self.queue.iter().map(LogReader::file_len).sum()
    }

    /// Bytes of them read so far.
    pub fn file_read(&self) -> u64 {
        self.queue.iter().map(LogReader::file_read).sum()
    }

    /// The compression of the current log.
    pub fn compression(&self) -> Compression {
        self.current()
            .map_or(Compression::Plain, LogReader::compression)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn lines(path: &Path) -> Vec<Vec<u8>> {
        let mut r = LogReader::open(path).unwrap();
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while r.next_line(&mut buf).unwrap() == Line::Read {
            out.push(buf.clone());
        }
        out
    }

    #[test]
    fn reads_plain_gzip_and_zstd_alike() {
        let dir = tempfile::tempdir().unwrap();
        let text = b"type=A msg=audit(1.000:1): a=1\ntype=B msg=audit(1.000:2): b=\xff\nlast";
        let plain = dir.path().join("a.log");
        std::fs::write(&plain, text).unwrap();
        let gz = dir.path().join("a.log.1");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let zst = dir.path().join("a.zst");
        std::fs::write(&zst, zstd::encode_all(&text[..], 3).unwrap()).unwrap();
        let want = lines(&plain);
        assert_eq!(want.len(), 3);
        assert_eq!(want[1], b"type=B msg=audit(1.000:2): b=\xff");
        assert_eq!(lines(&gz), want);
        assert_eq!(lines(&zst), want);
        assert_eq!(
            LogReader::open(&gz).unwrap().compression(),
            Compression::Gzip
        );
    }

    #[test]
    fn a_missing_file_names_the_path() {
        let err = LogReader::open(Path::new("/nonexistent/audit.log"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("/nonexistent/audit.log"), "{err}");
    }

    #[test]
    fn a_replayed_head_comes_back_then_frees_itself_then_its_error() {
        let mut r = Replay {
            head: b"one\ntw".to_vec(),
            at: 0,
            error: Some(io::Error::new(io::ErrorKind::UnexpectedEof, "cut")),
            rest: Box::new(&b"never read"[..]),
        };
        let mut line = Vec::new();
        assert_eq!(r.read_until(b'\n', &mut line).unwrap(), 4);
        assert_eq!(line, b"one\n");
        let err = r.read_until(b'\n', &mut line).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert_eq!(r.head.capacity(), 0, "the head is freed once read");
        let mut whole = Replay {
            head: b"a\n".to_vec(),
            at: 0,
            error: None,
            rest: Box::new(&b"b\n"[..]),
        };
        let mut all = String::new();
        whole.read_to_string(&mut all).unwrap();
        assert_eq!(all, "a\nb\n");
    }
}

//! Capture files: the event log as JSON lines, one [`Event`] document per line, zstd-compressed
//! when the file name ends in `.zst`.
//!
//! This module owns the file format and its crash safety:
//!
//! * [`CaptureWriter`] writes whole batches. Each batch is serialised in memory first, then
//!   written with one `write_all` and flushed to the kernel, so a crash of the writing process
//!   loses at most the batch being written; every earlier line stays intact. In a `.zst` file each
//!   batch is its own complete zstd frame (with a content checksum), so a frame cut short by a
//!   crash leaves the frames before it readable.
//! * [`CaptureReader`] streams events back. A line that is not a valid event is reported as
//!   [`CaptureError::BadLine`] with its line number and reading goes on ([`CaptureReader::skipped`]
//!   counts them). A file that ends in the middle of a line or a zstd frame is reported once as
//!   [`CaptureError::Truncated`], after every complete event before the cut.
//!
//! The lines are the same documents as in MongoDB (same field names), without the `_id`.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use crate::event::Event;
use crate::output::OutputPolicy;

/// zstd level used for `.zst` captures: fast, and about 10× smaller than plain JSON lines.
const ZSTD_LEVEL: i32 = 3;

/// What can go wrong with a capture file.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file could not be opened for reading.
    #[error("cannot open capture file {}: {}", path.display(), io_reason(source))]
    Open {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The file could not be created.
    #[error("cannot create capture file {}: {}", path.display(), io_reason(source))]
    Create {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The file was refused as an output (exists, is a link, is an input).
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    /// Writing (or compressing, or syncing) failed; the batch may be partly written.
    #[error("cannot write capture file {}: {}", path.display(), io_reason(source))]
    Write {
        /// The file.
        path: PathBuf,
        /// The operating system's (or compressor's) error.
        #[source]
        source: io::Error,
    },
    /// An event could not be serialised to JSON.
    #[error("cannot encode event {run}:{seq} as JSON")]
    Encode {
        /// The event's run.
        run: String,
        /// The event's sequence number.
        seq: u64,
        /// The encoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// A line is not a valid event; it was skipped and reading goes on.
    #[error("line {line}: not a valid event, skipped: {message}")]
    BadLine {
        /// 1-based line number in the (decompressed) file.
        line: u64,
        /// What is wrong with it.
        message: String,
    },
    /// The file ends in the middle of a line or a zstd frame (a writer crashed, or the file was
    /// cut). Every complete event before the cut was returned; nothing follows this error.
    #[error(
        "capture file {} is truncated after line {after_line}: {message}; the events before it were read",
        path.display()
    )]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The last complete line.
        after_line: u64,
        /// What the decoder saw.
        message: String,
    },
    /// Reading failed in a way reading cannot go past (corrupt compressed data, an I/O error).
    #[error("cannot read capture file {} after line {after_line}: {}", path.display(), io_reason(source))]
    Read {
        /// The file.
        path: PathBuf,
        /// The last complete line.
        after_line: u64,
        /// The operating system's or decompressor's error.
        #[source]
        source: io::Error,
    },
}

/// A few words for an I/O error, with advice where there is some.
fn io_reason(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::NotFound => "no such file or directory; check the path".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => err.to_string(),
    }
}

/// True for a path whose name ends in `.zst`.
pub fn is_zstd(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "zst")
}

/// Writes events to a capture file, one batch at a time.
pub struct CaptureWriter {
    path: PathBuf,
    file: File,
    /// One reusable buffer for a batch's JSON lines.
    lines: Vec<u8>,
    /// Present for `.zst` files: compresses each batch into one frame.
    compressor: Option<zstd::bulk::Compressor<'static>>,
    written: u64,
}

impl std::fmt::Debug for CaptureWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureWriter")
            .field("path", &self.path)
            .field("zstd", &self.compressor.is_some())
            .field("written", &self.written)
            .finish_non_exhaustive()
    }
}

impl CaptureWriter {
    /// Creates a new file (never an existing one, see [`crate::output`]); zstd-compressed when
    /// the name ends in `.zst`.
    pub fn create(path: &Path) -> Result<Self, CaptureError> {
        Self::create_with(path, OutputPolicy::default(), &[])
    }

    /// Creates the file as `policy` says, refusing any of `inputs` (see [`crate::output`]).
    pub fn create_with(
        path: &Path,
        policy: OutputPolicy,
        inputs: &[&Path],
    ) -> Result<Self, CaptureError> {
        let create_err = |source| CaptureError::Create {
            path: path.to_owned(),
            source,
        };
        let compressor = if is_zstd(path) {
            let mut c = zstd::bulk::Compressor::new(ZSTD_LEVEL).map_err(create_err)?;
            c.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))
                .map_err(create_err)?;
            Some(c)
        } else {
            None
        };
        let file = crate::output::create(path, policy, inputs)?;
        Ok(Self {
            path: path.to_owned(),
            file,
            lines: Vec::new(),
            compressor,
            written: 0,
        })
    }

    /// Appends the events as whole lines (one zstd frame for a `.zst` file) and flushes them to
    /// the operating system. An empty batch writes nothing.
    pub fn write_batch(&mut self, events: &[Event]) -> Result<(), CaptureError> {
        if events.is_empty() {
            return Ok(());
        }
        self.lines.clear();
        for event in events {
            serde_json::to_writer(&mut self.lines, event).map_err(|source| {
                CaptureError::Encode {
                    run: event.run.clone(),
                    seq: event.seq,
                    source,
                }
            })?;
            self.lines.push(b'\n');
        }
        let write_err = |source| CaptureError::Write {
            path: self.path.clone(),
            source,
        };
        match &mut self.compressor {
            Some(c) => {
                let frame = c.compress(&self.lines).map_err(write_err)?;
                self.file.write_all(&frame).map_err(write_err)?;
            }
            None => self.file.write_all(&self.lines).map_err(write_err)?,
        }
        self.file.flush().map_err(write_err)?;
        self.written += events.len() as u64;
        Ok(())
    }

    /// Events written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Forces everything written to the disk and closes the file.
    pub fn finish(self) -> Result<(), CaptureError> {
        self.file.sync_all().map_err(|source| CaptureError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

/// Streams the events of a capture file: an iterator of `Result<Event, CaptureError>`.
///
/// [`CaptureError::BadLine`] items can be skipped (reading goes on); after
/// [`CaptureError::Truncated`] or [`CaptureError::Read`] the iterator ends.
pub struct CaptureReader {
    path: PathBuf,
    input: Box<dyn BufRead + Send>,
    line: Vec<u8>,
    line_no: u64,
    skipped: u64,
    done: bool,
}

impl std::fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureReader")
            .field("path", &self.path)
            .field("line_no", &self.line_no)
            .field("skipped", &self.skipped)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl CaptureReader {
    /// Opens a capture file; decompresses it on the fly when the name ends in `.zst`.
    pub fn open(path: &Path) -> Result<Self, CaptureError> {
        let open_err = |source| CaptureError::Open {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(open_err)?;
        let input: Box<dyn BufRead + Send> = if is_zstd(path) {
            // The decoder reads frame after frame (one per batch) until the end of the file.
            let decoder = zstd::stream::read::Decoder::new(file).map_err(open_err)?;
            Box::new(BufReader::with_capacity(256 * 1024, decoder))
        } else {
            Box::new(BufReader::with_capacity(256 * 1024, file))
        };
        Ok(Self::from_reader(path, input))
    }

    /// Reads already-decompressed JSON lines from any source; `name` is used in messages.
    pub fn from_reader(name: &Path, input: Box<dyn BufRead + Send>) -> Self {
        Self {
            path: name.to_owned(),
            input,
            line: Vec::new(),
            line_no: 0,
            skipped: 0,
            done: false,
        }
    }

    /// Lines skipped so far because they were not valid events (a truncated last line included).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Lines read so far (including blank and skipped ones).
    pub fn lines_read(&self) -> u64 {
        self.line_no
    }

    /// Reads the next line into `self.line` (without its newline): `None` at a clean end of the
    /// file, else whether the line was complete (ended in a newline).
    fn next_line(&mut self) -> io::Result<Option<bool>> {
        self.line.clear();
        match self.input.read_until(b'\n', &mut self.line) {
            Ok(0) => Ok(None),
            Ok(_) => {
                let complete = self.line.last() == Some(&b'\n');
                if complete {
                    self.line.pop();
                }
                Ok(Some(complete))
            }
            Err(e) => Err(e),
        }
    }
}

impl Iterator for CaptureReader {
    type Item = Result<Event, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let complete = match self.next_line() {
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Ok(Some(complete)) => complete,
                Err(e) => {
                    self.done = true;
                    // A partial line before the error is lost with the rest of the frame.
                    if !self.line.is_empty() {
                        self.skipped += 1;
                    }
                    let after_line = self.line_no;
                    return Some(Err(if is_truncation(&e) {
                        CaptureError::Truncated {
                            path: self.path.clone(),
                            after_line,
                            message: e.to_string(),
                        }
                    } else {
                        CaptureError::Read {
                            path: self.path.clone(),
                            after_line,
                            source: e,
                        }
                    }));
                }
            };
            self.line_no += 1;
            if self.line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(match serde_json::from_slice::<Event>(&self.line) {
                Ok(event) => Ok(event),
                Err(e) => {
                    self.skipped += 1;
                    if complete {
                        Err(CaptureError::BadLine {
                            line: self.line_no,
                            message: e.to_string(),
                        })
                    } else {
                        // The file ends without a newline in the middle of an event.
                        self.done = true;
                        Err(CaptureError::Truncated {
                            path: self.path.clone(),
                            after_line: self.line_no - 1,
                            message: format!("the last line is incomplete ({e})"),
                        })
                    }
                }
            });
        }
    }
}

/// True when a read error means "the compressed data ends too early" rather than corruption.
fn is_truncation(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::UnexpectedEof || e.to_string().contains("incomplete frame")
}

/// Reads a whole capture file, skipping bad lines. Returns the events and every error met (bad
/// lines, and a truncation or read error at the end).
pub fn read_all(path: &Path) -> Result<(Vec<Event>, Vec<CaptureError>), CaptureError> {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    for item in CaptureReader::open(path)? {
        match item {
            Ok(e) => events.push(e),
            Err(e) => errors.push(e),
        }
    }
    Ok((events, errors))
}

#[cfg(test)]
#[path = "capture_tests.rs"]
mod tests;

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
//! * [`CaptureReader`] streams events back, past damage: a line that is not a valid event
//!   ([`CaptureError::BadLine`]) or too long to be one ([`CaptureError::LineTooLong`], skipped
//!   as it is read), a zstd frame that does not decode or whose checksum does not match
//!   ([`CaptureError::DamagedFrame`]: that frame is dropped whole and reading goes on at the next
//!   one) are reported and reading goes on. A file that ends in the middle of a line or a zstd
//!   frame is reported once as [`CaptureError::Truncated`], after every complete event before
//!   the cut. The events of a `.zst` frame are handed out only once the frame's checksum
//!   matched, so a damaged frame never yields altered events.
//!
//! The lines are the same documents as in MongoDB (same field names), without the `_id`.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::event::Event;
use crate::output::OutputPolicy;

mod frames;
mod reader;

pub use reader::{CaptureReader, MAX_LINE};

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
        /// 1-based line number among the lines decoded.
        line: u64,
        /// What is wrong with it.
        message: String,
    },
    /// A line is longer than any event can be; it was skipped as it was read (never held whole)
    /// and reading goes on.
    #[error("line {line}: {len} bytes, more than the {MAX_LINE} a line may have; skipped")]
    LineTooLong {
        /// 1-based line number among the lines decoded.
        line: u64,
        /// Its length in bytes.
        len: u64,
    },
    /// A zstd frame could not be decoded (corrupt bytes, a checksum mismatch) or bytes between
    /// frames are no frame: they were skipped up to the next frame, and reading goes on there.
    /// What the frame held is lost, the lines decoded from it before the damage was found too.
    #[error(
        "capture file {}: damaged zstd data at byte {offset} ({bytes} bytes skipped, {lines} \
         decoded lines dropped with them): {message}; reading goes on at the next frame",
        path.display()
    )]
    DamagedFrame {
        /// The file.
        path: PathBuf,
        /// Offset of the damaged frame in the compressed file.
        offset: u64,
        /// Compressed bytes skipped.
        bytes: u64,
        /// Lines decoded from the frame before the damage showed, dropped with it.
        lines: u64,
        /// The last line handed out before the frame.
        after_line: u64,
        /// The decoder's words.
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
mod tests;

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
//! * A capture ends with an end record, `{"capture_end":{"events":N}}`, written by
//!   [`CaptureWriter::finish`] when the recorder closes the file cleanly. Nothing else marks
//!   where a capture ends: without it a file cut exactly at a line or frame boundary reads like a
//!   shorter whole capture. So a capture without an end record is reported
//!   ([`CaptureError::NoEnd`]: a recorder that crashed or was killed, a file still being
//!   written, or a cut), and an end record whose count differs from the events read since the
//!   start (or the previous end record, in captures joined with `cat`) is reported too
//!   ([`CaptureError::CountMismatch`]: lines removed or added). Either becomes a gap.
//!
//! The lines are the same documents as in MongoDB (same field names), without the `_id`.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::model::event::Event;
use crate::storage::output::OutputPolicy;

mod frames;
pub mod growing;
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
    Output(#[from] crate::storage::output::OutputError),
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
    /// The capture has no end record after its last events: the recorder did not close it
    /// (it crashed, was killed, or ran out of disk), it is still being written, or the file was
    /// cut at a line or frame boundary. How much is missing after the last event is unknown.
    #[error(
        "capture file {} has no end record after line {after_line}: the recorder did not close it \
         (crash, kill, full disk), it is still being written, or it was cut; events after that \
         line may be missing",
        path.display()
    )]
    NoEnd {
        /// The file.
        path: PathBuf,
        /// The last line read.
        after_line: u64,
    },
    /// An end record counts other than the events read since the capture's start (or the
    /// previous end record): lines were removed from the capture, or added to it.
    #[error(
        "capture file {}: the end record at line {line} counts {written} events, {read} were read \
         before it; lines were removed or added",
        path.display()
    )]
    CountMismatch {
        /// The file.
        path: PathBuf,
        /// The end record's line.
        line: u64,
        /// Events the writer wrote, as the end record says.
        written: u64,
        /// Events read before the end record.
        read: u64,
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

/// The last line of a capture that was closed cleanly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct EndRecord {
    pub(crate) capture_end: EndInfo,
}

/// What an [`EndRecord`] says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct EndInfo {
    /// Events the writer wrote into the capture.
    pub(crate) events: u64,
}

/// How an end record's line starts; no event line starts so.
pub(crate) const END_PREFIX: &[u8] = b"{\"capture_end\"";

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
    /// Creates a new file (never an existing one, see [`crate::storage::output`]); zstd-compressed when
    /// the name ends in `.zst`.
    pub fn create(path: &Path) -> Result<Self, CaptureError> {
        Self::create_with(path, OutputPolicy::default(), &[])
    }

    /// Creates the file as `policy` says, refusing any of `inputs` (see [`crate::storage::output`]).
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
        let file = crate::storage::output::create(path, policy, inputs)?;
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
        write_block(
            &mut self.file,
            self.compressor.as_mut(),
            &self.path,
            &self.lines,
        )?;
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

    /// Writes the end record (in its own zstd frame for a `.zst` file), forces everything to
    /// the disk and closes the file. A capture not closed this way is reported as such by
    /// [`CaptureReader`].
    pub fn finish(mut self) -> Result<(), CaptureError> {
        let write_err = |source| CaptureError::Write {
            path: self.path.clone(),
            source,
        };
        let end = EndRecord {
            capture_end: EndInfo {
                events: self.written,
            },
        };
        let mut line = serde_json::to_vec(&end).map_err(|e| write_err(e.into()))?;
        line.push(b'\n');
        write_block(&mut self.file, self.compressor.as_mut(), &self.path, &line)?;
        self.file.sync_all().map_err(write_err)
    }
}

/// Writes whole lines with one `write_all` (as one zstd frame when compressing) and flushes
/// them to the operating system.
fn write_block(
    file: &mut File,
    compressor: Option<&mut zstd::bulk::Compressor<'static>>,
    path: &Path,
    lines: &[u8],
) -> Result<(), CaptureError> {
    let write_err = |source| CaptureError::Write {
        path: path.to_owned(),
        source,
    };
    match compressor {
        Some(c) => {
            let frame = c.compress(lines).map_err(write_err)?;
            file.write_all(&frame).map_err(write_err)?;
        }
        None => file.write_all(lines).map_err(write_err)?,
    }
    file.flush().map_err(write_err)
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

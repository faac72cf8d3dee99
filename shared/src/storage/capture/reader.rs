//! [`CaptureReader`]: the events of a capture file, read past damage (see the module docs of
//! [`crate::storage::capture`]).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::frames::{Frames, Step};
use super::{CaptureError, END_PREFIX, EndRecord, is_zstd};
use crate::model::event::Event;
use crate::storage::lines::{Line, LineSplitter};

/// The longest line a capture may hold (64 MiB). The largest event godo writes is an exec with
/// the kernel's maximum argument space (a few MiB) in its most expanded JSON form; a longer line
/// is not an event and is skipped as it streams past.
pub const MAX_LINE: usize = 64 << 20;
/// Plain bytes read at a time.
const READ_SIZE: usize = 256 * 1024;
/// Items of one zstd frame held until its checksum is checked. godo's frames hold one batch;
/// a frame from another writer (`zstd` run on a whole capture) may hold millions of lines,
/// which are then handed out without waiting for the frame's end.
const HOLD_MAX: usize = 65_536;

enum Source {
    Plain(Box<dyn Read + Send>),
    Zstd(Frames<Box<dyn Read + Send>>),
}

/// Streams the events of a capture file: an iterator of `Result<Event, CaptureError>`.
///
/// [`CaptureError::BadLine`], [`CaptureError::LineTooLong`], [`CaptureError::DamagedFrame`] and
/// [`CaptureError::CountMismatch`] items are reported and reading goes on; after
/// [`CaptureError::Truncated`], [`CaptureError::NoEnd`] or [`CaptureError::Read`] the iterator
/// ends. End records are checked and not handed out. Memory is bounded whatever the file holds: one
/// line of at most [`MAX_LINE`] bytes, one frame's events up to `HOLD_MAX`, and the buffers.
pub struct CaptureReader {
    path: PathBuf,
    source: Source,
    /// Decoded bytes not yet split into lines: `decoded[used..]`.
    decoded: Vec<u8>,
    used: usize,
    splitter: LineSplitter,
    line_no: u64,
    skipped: u64,
    /// Items ready to hand out, in file order.
    ready: VecDeque<Result<Event, CaptureError>>,
    /// Items of the zstd frame being decoded, held until its checksum matched.
    held: Vec<Result<Event, CaptureError>>,
    /// The line number before the frame being decoded.
    frame_after_line: u64,
    /// Events decoded since the start or the last end record.
    segment_events: u64,
    /// Damage was reported since the start or the last end record (so the end record's count
    /// cannot be checked: the damage is already reported).
    segment_damaged: bool,
    /// The last record read was an end record.
    ended: bool,
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
        Self::from_reader(path, Box::new(file), is_zstd(path)).map_err(open_err)
    }

    /// Reads a capture from any source (zstd frames when `zstd`); `name` is used in messages.
    pub fn from_reader(name: &Path, input: Box<dyn Read + Send>, zstd: bool) -> io::Result<Self> {
        let source = if zstd {
            Source::Zstd(Frames::new(input)?)
        } else {
            Source::Plain(input)
        };
        Ok(Self {
            path: name.to_owned(),
            source,
            decoded: Vec::with_capacity(READ_SIZE),
            used: 0,
            splitter: LineSplitter::new(MAX_LINE),
            line_no: 0,
            skipped: 0,
            ready: VecDeque::new(),
            held: Vec::new(),
            frame_after_line: 0,
            segment_events: 0,
            segment_damaged: false,
            ended: false,
            done: false,
        })
    }

    /// Keeps lines of at most `max` bytes instead of [`MAX_LINE`].
    pub fn with_max_line(mut self, max: usize) -> Self {
        self.splitter = LineSplitter::new(max);
        self
    }

    /// Lines not handed out as events so far: bad, too long, or lost with a damaged frame or a
    /// cut (a truncated last line included).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// Lines decoded so far (including blank and skipped ones).
    pub fn lines_read(&self) -> u64 {
        self.line_no
    }

    /// Where an item goes: held with its zstd frame, or ready.
    fn emit(&mut self, item: Result<Event, CaptureError>) {
        match &item {
            Ok(_) => {
                self.segment_events += 1;
                self.ended = false;
            }
            Err(_) => self.segment_damaged = true,
        }
        if matches!(self.source, Source::Zstd(_)) {
            self.held.push(item);
            if self.held.len() >= HOLD_MAX {
                self.release();
            }
        } else {
            self.ready.push_back(item);
        }
    }

    /// The held items are whole: hand them out.
    fn release(&mut self) {
        self.ready.extend(self.held.drain(..));
        self.frame_after_line = self.line_no;
    }

    /// The held items and the line in progress are lost with their frame; returns how many
    /// lines that is.
    fn drop_frame(&mut self) -> u64 {
        self.segment_damaged = true;
        let events = self.held.iter().filter(|i| i.is_ok()).count() as u64;
        self.skipped += events;
        let mut lines = self.held.len() as u64;
        self.held.clear();
        if self.splitter.in_line() {
            self.splitter.discard();
            self.skipped += 1;
            lines += 1;
        }
        lines
    }

    /// A complete line: an event, a blank line (nothing), or a bad line.
    fn take_line(&mut self, line: Line) {
        self.line_no += 1;
        let item = match line {
            Line::TooLong { len } => Err(CaptureError::LineTooLong {
                line: self.line_no,
                len,
            }),
            Line::Read | Line::End => {
                let text = self.splitter.line();
                if text.iter().all(u8::is_ascii_whitespace) {
                    return;
                }
                if text.starts_with(END_PREFIX) {
                    if let Ok(end) = serde_json::from_slice::<EndRecord>(text) {
                        self.end_record(end);
                        return;
                    }
                }
                match serde_json::from_slice::<Event>(text) {
                    Ok(event) => Ok(event),
                    Err(e) => Err(CaptureError::BadLine {
                        line: self.line_no,
                        message: e.to_string(),
                    }),
                }
            }
        };
        if item.is_err() {
            self.skipped += 1;
        }
        self.emit(item);
    }

    /// An end record: checks its count against the events read since the last one, and starts
    /// counting again (captures joined with `cat` hold one end record each).
    fn end_record(&mut self, end: EndRecord) {
        let written = end.capture_end.events;
        if !self.segment_damaged && written != self.segment_events {
            let mismatch = CaptureError::CountMismatch {
                path: self.path.clone(),
                line: self.line_no,
                written,
                read: self.segment_events,
            };
            self.skipped += written.saturating_sub(self.segment_events);
            self.emit(Err(mismatch));
        }
        self.segment_events = 0;
        self.segment_damaged = false;
        self.ended = true;
    }

    /// True when the line the splitter holds is a whole record (an event or an end record).
    fn is_whole_record(&self) -> bool {
        let text = self.splitter.line();
        if text.starts_with(END_PREFIX) {
            serde_json::from_slice::<EndRecord>(text).is_ok()
        } else {
            serde_json::from_slice::<Event>(text).is_ok()
        }
    }

    /// The input ended after whole records: it must have ended with an end record.
    fn check_end(&mut self) {
        self.release();
        if !self.ended {
            self.ready.push_back(Err(CaptureError::NoEnd {
                path: self.path.clone(),
                after_line: self.line_no,
            }));
        }
    }

    /// Splits what was decoded into lines.
    fn split(&mut self) {
        while self.used < self.decoded.len() {
            let (used, line) = self.splitter.feed(&self.decoded[self.used..]);
            self.used += used;
            if let Some(line) = line {
                self.take_line(line);
            }
        }
        self.decoded.clear();
        self.used = 0;
    }

    /// The input ended: a last line without its newline is a record if it parses, else the
    /// sign of a cut. A capture that ends after whole records must end with an end record.
    fn finish(&mut self) {
        self.done = true;
        let Some(line) = self.splitter.finish() else {
            self.check_end();
            return;
        };
        let after_line = self.line_no;
        if line == Line::Read && self.is_whole_record() {
            self.take_line(line);
            self.check_end();
            return;
        }
        self.line_no += 1;
        self.skipped += 1;
        self.release();
        self.ready.push_back(Err(CaptureError::Truncated {
            path: self.path.clone(),
            after_line,
            message: "the last line is incomplete".to_owned(),
        }));
    }

    /// Reads and decodes more, filling `ready`.
    fn advance(&mut self) {
        let step = match &mut self.source {
            Source::Plain(input) => {
                self.decoded.resize(READ_SIZE, 0);
                let read = loop {
                    match input.read(&mut self.decoded) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        other => break other,
                    }
                };
                match read {
                    Ok(0) => {
                        self.decoded.clear();
                        Ok(Step::End)
                    }
                    Ok(n) => {
                        self.decoded.truncate(n);
                        Ok(Step::Data)
                    }
                    Err(e) => {
                        self.decoded.clear();
                        Err(e)
                    }
                }
            }
            Source::Zstd(frames) => frames.step(&mut self.decoded),
        };
        self.split();
        if matches!(self.source, Source::Plain(_)) {
            self.frame_after_line = self.line_no;
        }
        match step {
            Ok(Step::Data) => {}
            Ok(Step::FrameEnd) => self.release(),
            Ok(Step::End) => self.finish(),
            Ok(Step::Damaged {
                offset,
                bytes,
                message,
            }) => {
                let lines = self.drop_frame();
                self.ready.push_back(Err(CaptureError::DamagedFrame {
                    path: self.path.clone(),
                    offset,
                    bytes,
                    lines,
                    after_line: self.frame_after_line,
                    message,
                }));
                self.frame_after_line = self.line_no;
            }
            Ok(Step::Truncated { offset }) => {
                // A cut, not corruption: the lines decoded before it are as written (a writer
                // stopped in the middle of a frame); only the line in progress is lost.
                if self.splitter.in_line() {
                    self.splitter.discard();
                    self.skipped += 1;
                }
                self.release();
                self.done = true;
                self.ready.push_back(Err(CaptureError::Truncated {
                    path: self.path.clone(),
                    after_line: self.line_no,
                    message: format!("the zstd frame at byte {offset} is cut short"),
                }));
            }
            Err(source) => {
                self.drop_frame();
                self.done = true;
                self.ready.push_back(Err(CaptureError::Read {
                    path: self.path.clone(),
                    after_line: self.frame_after_line,
                    source,
                }));
            }
        }
    }
}

impl Iterator for CaptureReader {
    type Item = Result<Event, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            self.advance();
        }
    }
}

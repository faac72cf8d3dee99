//! Decompressing a `.zst` capture frame by frame, past damage.
//!
//! `godo` writes every batch as its own zstd frame with a content checksum. A damaged frame (a
//! flipped bit, a lost sector, bytes cut out) must cost that frame only: the reader reports it
//! and carries on at the next frame, found by its magic number. The `zstd` crate's reading
//! decoder stops at the first error, and `zstd_safe::find_frame_compressed_size` needs a whole
//! frame in memory, so this drives the streaming decoder itself, which says where each frame
//! ends and lets decoding restart anywhere, with memory bounded by two buffers.

use std::io::{self, Read};

use zstd::stream::raw::{Decoder, Operation};

/// The first four bytes of every zstd frame (little-endian 0xFD2FB528).
const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// Compressed bytes read at a time.
const READ_SIZE: usize = 128 * 1024;

/// What the next step of decoding gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Decompressed bytes were appended to the output buffer (perhaps none).
    Data,
    /// A frame ended and its checksum matched: what it gave is whole (its last bytes may have
    /// been appended with this step).
    FrameEnd,
    /// A frame (or bytes between frames) could not be decoded and was skipped, up to the next
    /// frame or the end of the file; what this frame gave so far must be discarded.
    Damaged {
        /// Offset in the compressed file where the damaged frame (or the stray bytes) began.
        offset: u64,
        /// Compressed bytes skipped, the damaged frame's included.
        bytes: u64,
        /// The decoder's words.
        message: String,
    },
    /// The file ends inside a frame (a writer stopped mid-frame, or the file was cut).
    Truncated {
        /// Offset where that frame began.
        offset: u64,
    },
    /// The end of the file, after a whole frame.
    End,
}

/// A zstd file read frame by frame.
pub struct Frames<R> {
    input: R,
    decoder: Decoder<'static>,
    /// Compressed bytes read and not yet decoded: `buf[pos..len]`.
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    /// File offset of `buf[0]`.
    base: u64,
    /// Offset of the current frame's first byte, while inside one.
    frame: Option<u64>,
    eof: bool,
}

impl<R> std::fmt::Debug for Frames<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frames")
            .field("offset", &(self.base + self.pos as u64))
            .field("frame", &self.frame)
            .field("eof", &self.eof)
            .finish_non_exhaustive()
    }
}

impl<R: Read> Frames<R> {
    /// Reads frames from `input`.
    pub fn new(input: R) -> io::Result<Self> {
        Ok(Self {
            input,
            decoder: Decoder::new()?,
            buf: vec![0; READ_SIZE],
            pos: 0,
            len: 0,
            base: 0,
            frame: None,
            eof: false,
        })
    }

    /// Offset in the file of the next byte to decode.
    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Makes `n` bytes available to decode (fewer only at the end of the file), moving what is
    /// left to the front of the buffer before reading on.
    fn ensure(&mut self, n: usize) -> io::Result<()> {
        if self.len - self.pos >= n {
            return Ok(());
        }
        let have = self.len - self.pos;
        self.buf.copy_within(self.pos..self.len, 0);
        self.base += self.pos as u64;
        self.pos = 0;
        self.len = have;
        while self.len < n && !self.eof {
            match self.input.read(&mut self.buf[self.len..]) {
                Ok(0) => self.eof = true,
                Ok(read) => self.len += read,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Skips to the next frame's magic number (or the end); returns the bytes skipped.
    fn resync(&mut self) -> io::Result<u64> {
        let start = self.offset();
        loop {
            self.ensure(MAGIC.len())?;
            let available = &self.buf[self.pos..self.len];
            if available.len() < MAGIC.len() {
                self.pos = self.len;
                return Ok(self.offset() - start);
            }
            match available.windows(MAGIC.len()).position(|w| w == MAGIC) {
                Some(at) => {
                    self.pos += at;
                    return Ok(self.offset() - start);
                }
                // Keep three bytes: a magic number may straddle two reads.
                None => self.pos = self.len - (MAGIC.len() - 1),
            }
        }
    }

    /// Decodes the next piece, appending decompressed bytes to `out`.
    pub fn step(&mut self, out: &mut Vec<u8>) -> io::Result<Step> {
        self.ensure(1)?;
        if self.pos == self.len {
            return Ok(match self.frame.take() {
                Some(offset) => Step::Truncated { offset },
                None => Step::End,
            });
        }
        if self.frame.is_none() {
            let at = self.offset();
            self.ensure(MAGIC.len())?;
            let head = &self.buf[self.pos..self.len];
            if head.len() < MAGIC.len() && MAGIC.starts_with(head) {
                // The file ends in the first bytes of a frame.
                self.pos = self.len;
                return Ok(Step::Truncated { offset: at });
            }
            if !head.starts_with(&MAGIC) {
                let bytes = self.resync()?;
                return Ok(Step::Damaged {
                    offset: at,
                    bytes,
                    message: "no zstd frame starts here".to_owned(),
                });
            }
            self.frame = Some(at);
        }
        let room = out.len();
        out.resize(room + READ_SIZE, 0);
        let status = self
            .decoder
            .run_on_buffers(&self.buf[self.pos..self.len], &mut out[room..]);
        match status {
            Ok(status) => {
                self.pos += status.bytes_read;
                out.truncate(room + status.bytes_written);
                if status.remaining == 0 {
                    self.frame = None;
                    return Ok(Step::FrameEnd);
                }
                Ok(Step::Data)
            }
            Err(e) => {
                out.truncate(room);
                let offset = self.frame.take().unwrap_or_else(|| self.offset());
                self.decoder.reinit()?;
                // The damage is inside this frame: the next frame starts after its first byte.
                self.ensure(1)?;
                if self.offset() == offset && self.pos < self.len {
                    self.pos += 1;
                }
                self.resync()?;
                Ok(Step::Damaged {
                    offset,
                    bytes: self.offset() - offset,
                    message: e.to_string(),
                })
            }
        }
    }
}

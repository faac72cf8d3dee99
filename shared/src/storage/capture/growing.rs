//! A capture file that godo is still writing, read as a stream that waits at its end.
//!
//! [`GrowingFile`] hands the bytes appended to a file to whoever reads it (the capture reader),
//! and instead of an end of file it waits for more, looking again every [`LOOK_AGAIN`]. A reader
//! blocked in it has handed out every complete line and frame before the end, so "waiting at
//! the end" ([`Tail::waiting`]) means "caught up". Only [`Tail::stop`] ends the stream.

use std::fs::File;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How long a reader at the end of the file waits before it looks again.
pub const LOOK_AGAIN: Duration = Duration::from_millis(100);

/// What a [`GrowingFile`] and its owner share: whether the reader waits at the end, and whether
/// it should stop.
#[derive(Debug, Default)]
pub struct Tail {
    waiting: AtomicBool,
    stop: AtomicBool,
}

impl Tail {
    /// The reader has read everything written so far and waits for more.
    pub fn waiting(&self) -> bool {
        self.waiting.load(Ordering::Acquire)
    }

    /// Ends the stream: the reader's next look at the end finds an end of file.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// A file read as the endless stream of what is appended to it (see the module docs).
#[derive(Debug)]
pub struct GrowingFile {
    file: File,
    tail: Arc<Tail>,
}

impl GrowingFile {
    /// Reads `file` from where it stands; `tail` tells its owner when it waits at the end.
    pub fn new(file: File, tail: Arc<Tail>) -> Self {
        Self { file, tail }
    }
}

impl Read for GrowingFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let n = self.file.read(buf)?;
            if n > 0 {
                self.tail.waiting.store(false, Ordering::Release);
                return Ok(n);
            }
            if self.tail.stop.load(Ordering::Acquire) {
                return Ok(0);
            }
            self.tail.waiting.store(true, Ordering::Release);
            std::thread::sleep(LOOK_AGAIN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn the_reader_waits_at_the_end_and_takes_what_is_appended_later() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("growing");
        let mut writer = File::create(&path).unwrap();
        writer.write_all(b"first\n").unwrap();
        let tail = Arc::new(Tail::default());
        let mut reader = GrowingFile::new(File::open(&path).unwrap(), Arc::clone(&tail));
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            let mut all = Vec::new();
            let mut buf = [0u8; 4];
            loop {
                let n = reader.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                all.extend_from_slice(&buf[..n]);
                let _ = tx.send(all.clone());
            }
            all
        });
        let mut seen = Vec::new();
        while seen != b"first\n" {
            seen = rx.recv().unwrap();
        }
        while !tail.waiting() {
            std::thread::sleep(Duration::from_millis(5));
        }
        writer.write_all(b"second\n").unwrap();
        while seen != b"first\nsecond\n" {
            seen = rx.recv().unwrap();
        }
        tail.stop();
        assert_eq!(handle.join().unwrap(), b"first\nsecond\n");
    }
}

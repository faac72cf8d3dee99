//! Helpers shared by the listener's integration tests.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;

use dockwatch_listener::recording::audit::{Assembler, Counters, parse_log_line};
use dockwatch_shared::Event;

/// The fixtures directory.
pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The lines of a fixture (decompressed when it ends in .zst).
pub fn fixture_lines(name: &str) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(fixtures().join(name)).unwrap();
    let bytes = if name.ends_with(".zst") {
        zstd::decode_all(&bytes[..]).unwrap()
    } else {
        bytes
    };
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// Parses and assembles lines as the import does.
pub fn assemble<L: AsRef<[u8]>>(lines: &[L]) -> (Vec<Event>, Counters) {
    let mut asm = Assembler::new("fixture-host", "fixture-boot");
    let mut out: Vec<dockwatch_shared::Event> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        match parse_log_line(line.as_ref()) {
            Ok(r) => asm.push(r, &mut out),
            Err(e) => asm.parse_error(&e, format!("line {}", i + 1)),
        }
    }
    asm.finish(&mut out);
    (out, asm.counters().clone())
}

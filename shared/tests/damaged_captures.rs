//! Fuzz-style property test over real captures (recorded with `godo --write` on a Docker host):
//! random damage to the file, compressed or plain, never makes the reader or the loader panic,
//! and every event of the original that is not read back is counted in a gap.
//!
//! Cuts at a line or zstd frame boundary are found too: a whole shorter file lacks the capture's
//! end record.

use std::collections::HashSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use dockwatch_shared::load::from_capture_reader;
use dockwatch_shared::model::time::Timestamp;
use dockwatch_shared::pipeline::completeness::{Completeness, Seen};
use dockwatch_shared::storage::capture::CaptureReader;
use proptest::prelude::*;

fn real_capture() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../assets/captures/busybox-scenario.jsonl.zst");
        std::fs::read(path).expect("the committed capture")
    })
}

fn plain_capture() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| decompressed(real_capture()))
}

/// What the intact capture reads as (the same for both forms).
fn original() -> &'static Outcome {
    static OUTCOME: OnceLock<Outcome> = OnceLock::new();
    OUTCOME.get_or_init(|| {
        let outcome = read(real_capture(), true);
        assert_eq!(outcome.gaps, 0, "the committed capture is whole");
        assert_eq!(read(plain_capture(), false).read, outcome.read);
        outcome
    })
}

fn decompressed(zst: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    zstd::stream::read::Decoder::new(zst)
        .expect("decoder")
        .read_to_end(&mut out)
        .expect("the committed capture decompresses");
    out
}

/// One way to damage a file.
#[derive(Clone, Debug)]
enum Damage {
    /// XOR a byte.
    Flip { at: usize, with: u8 },
    /// Remove a range.
    Delete { at: usize, len: usize },
    /// Insert bytes.
    Insert { at: usize, bytes: Vec<u8> },
    /// Repeat a range right after itself.
    Repeat { at: usize, len: usize },
    /// Cut the end.
    Truncate { at: usize },
}

fn damage() -> impl Strategy<Value = Damage> {
    // Positions are fractions of the file (in millionths), so they fit any size.
    let at = 0usize..1_000_000;
    prop_oneof![
        (at.clone(), 1u8..=255).prop_map(|(at, with)| Damage::Flip { at, with }),
        (at.clone(), 1usize..5_000).prop_map(|(at, len)| Damage::Delete { at, len }),
        (at.clone(), prop::collection::vec(any::<u8>(), 1..64))
            .prop_map(|(at, bytes)| Damage::Insert { at, bytes }),
        (at.clone(), 1usize..20_000).prop_map(|(at, len)| Damage::Repeat { at, len }),
        at.prop_map(|at| Damage::Truncate { at }),
    ]
}

fn apply(bytes: &mut Vec<u8>, d: &Damage) {
    let pos =
        |millionths: usize, len: usize| (millionths as u128 * len as u128 / 1_000_000) as usize;
    match d {
        Damage::Flip { at, with } => {
            let i = pos(*at, bytes.len());
            if let Some(b) = bytes.get_mut(i) {
                *b ^= with;
            }
        }
        Damage::Delete { at, len } => {
            let i = pos(*at, bytes.len());
            let end = (i + len).min(bytes.len());
            bytes.drain(i..end);
        }
        Damage::Insert { at, bytes: new } => {
            let i = pos(*at, bytes.len());
            bytes.splice(i..i, new.iter().copied());
        }
        Damage::Repeat { at, len } => {
            let i = pos(*at, bytes.len());
            let end = (i + len).min(bytes.len());
            let copy = bytes[i..end].to_vec();
            bytes.splice(end..end, copy);
        }
        Damage::Truncate { at } => {
            bytes.truncate(pos(*at, bytes.len()));
        }
    }
}

/// What reading a (damaged) capture gave: the (run, seq) read, and the gaps' counts.
struct Outcome {
    read: HashSet<(String, u64)>,
    lost_known: u64,
    lost_unknown: bool,
    gaps: usize,
}

fn read(bytes: &[u8], zstd: bool) -> Outcome {
    let reader = CaptureReader::from_reader(
        Path::new("mutated"),
        Box::new(bytes.to_vec().into_reader()),
        zstd,
    )
    .expect("a reader over memory");
    let mut ledger = Completeness::new();
    let mut read = HashSet::new();
    for item in reader {
        match item {
            Ok(event) => {
                if ledger.event(&event) == Seen::New {
                    read.insert((event.run.clone(), event.seq));
                }
            }
            Err(e) => ledger.reader_error(&e),
        }
    }
    let gaps = ledger.gaps();
    Outcome {
        read,
        lost_known: gaps.iter().filter_map(|g| g.gap.lost).sum(),
        lost_unknown: gaps.iter().any(|g| g.gap.lost.is_none()),
        gaps: gaps.len(),
    }
}

trait IntoReader {
    fn into_reader(self) -> std::io::Cursor<Vec<u8>>;
}

impl IntoReader for Vec<u8> {
    fn into_reader(self) -> std::io::Cursor<Vec<u8>> {
        std::io::Cursor::new(self)
    }
}

fn check(original: &Outcome, bytes: &[u8], zstd: bool) -> Result<(), TestCaseError> {
    let got = read(bytes, zstd);
    let missing = original.read.difference(&got.read).count() as u64;
    let reader = CaptureReader::from_reader(
        Path::new("mutated"),
        Box::new(bytes.to_vec().into_reader()),
        zstd,
    )
    .expect("a reader over memory");
    let loaded = from_capture_reader(reader, "mutated", None, None, Timestamp(0), &mut |_| {});
    if got.read.is_empty() {
        // Nothing readable at all (the file cut to its first bytes): nothing to investigate,
        // which the loader says rather than showing an empty tree.
        prop_assert!(loaded.is_err(), "an empty result is an error");
        return Ok(());
    }
    if missing > 0 {
        prop_assert!(got.gaps > 0, "{missing} events missing and no gap");
        prop_assert!(
            got.lost_unknown || got.lost_known >= missing,
            "{missing} events missing, gaps count {}",
            got.lost_known
        );
    }
    // The loader on the same bytes: its investigation has the gaps of its boot.
    if let Ok(loaded) = loaded {
        if missing > 0 && loaded.boots.len() == 1 {
            prop_assert!(
                !loaded.investigation.gaps.is_empty(),
                "the loss is in the investigation"
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn damage_to_a_compressed_capture_is_always_counted(damages in prop::collection::vec(damage(), 1..4)) {
        let mut bytes = real_capture().to_vec();
        for d in &damages {
            apply(&mut bytes, d);
        }
        check(original(), &bytes, true)?;
    }

    #[test]
    fn damage_to_a_plain_capture_is_always_counted(damages in prop::collection::vec(damage(), 1..4)) {
        let mut bytes = plain_capture().to_vec();
        for d in &damages {
            apply(&mut bytes, d);
        }
        check(original(), &bytes, false)?;
    }
}

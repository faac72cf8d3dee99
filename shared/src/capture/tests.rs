//! Capture file tests: round trips, bad lines, truncated files, and BSON/JSON field names.

use std::collections::BTreeSet;
use std::io::Write as _;

use super::*;
use crate::store::event_document;
use crate::testing::samples;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Every sample, repeated `copies` times with distinct `seq`s.
fn many(copies: u64) -> Vec<Event> {
    let base = samples();
    let n = base.len() as u64;
    let mut out = Vec::new();
    for c in 0..copies {
        for e in &base {
            let mut e = e.clone();
            e.seq += c * n;
            out.push(e);
        }
    }
    out
}

fn write(path: &Path, batches: &[&[Event]]) {
    let mut w = CaptureWriter::create(path).expect("create");
    for b in batches {
        w.write_batch(b).expect("write");
    }
    w.finish().expect("finish");
}

#[test]
fn every_kind_round_trips_through_plain_and_zstd_files() {
    let dir = tmp();
    let events = many(3);
    for name in ["cap.jsonl", "cap.jsonl.zst"] {
        let path = dir.path().join(name);
        let (a, b) = events.split_at(20);
        write(&path, &[a, &[], b]);
        let mut reader = CaptureReader::open(&path).expect("open");
        let back: Vec<Event> = reader.by_ref().map(|r| r.expect("valid")).collect();
        assert_eq!(back, events, "{name}");
        assert_eq!(reader.skipped(), 0);
        assert_eq!(reader.lines_read(), events.len() as u64);
    }
    // The .zst file really is compressed, one frame per non-empty batch.
    let z = std::fs::read(dir.path().join("cap.jsonl.zst")).expect("read");
    let magic = [0x28, 0xb5, 0x2f, 0xfd];
    assert_eq!(z[..4], magic);
    assert_eq!(z.windows(4).filter(|w| *w == magic).count(), 2);
    let plain = std::fs::metadata(dir.path().join("cap.jsonl"))
        .expect("meta")
        .len();
    assert!((z.len() as u64) < plain / 2, "{} vs {plain}", z.len());
}

#[test]
fn each_line_is_one_event_even_with_newlines_in_text() {
    let dir = tmp();
    let path = dir.path().join("lines.jsonl");
    let events = samples();
    write(&path, &[&events]);
    let text = std::fs::read(&path).expect("read");
    assert_eq!(text.iter().filter(|b| **b == b'\n').count(), events.len());
    assert_eq!(text.last(), Some(&b'\n'));
}

#[test]
fn a_corrupt_line_in_the_middle_is_reported_and_the_rest_is_read() {
    let dir = tmp();
    let events = samples();
    // Plain: good lines, a broken line (line 6), an invalid UTF-8 line (line 7), good lines.
    let path = dir.path().join("bad.jsonl");
    write(&path, &[&events[..5]]);
    {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("append");
        f.write_all(b"{\"host\":\"h\",\"kind\":\"exit\", garbage\n")
            .expect("w");
        f.write_all(b"\xff\xfe not json\n").expect("w");
        let mut line = serde_json::to_vec(&events[5]).expect("json");
        line.push(b'\n');
        f.write_all(&line).expect("w");
    }
    let mut reader = CaptureReader::open(&path).expect("open");
    let mut good = 0;
    let mut bad_lines = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(_) => good += 1,
            Err(CaptureError::BadLine { line, message }) => {
                assert!(!message.is_empty());
                bad_lines.push(line);
            }
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(good, 6);
    assert_eq!(bad_lines, vec![6, 7]);
    assert_eq!(reader.skipped(), 2);

    // zstd: a frame holding one bad line between two good batches.
    let zpath = dir.path().join("bad.jsonl.zst");
    let mut w = CaptureWriter::create(&zpath).expect("create");
    w.write_batch(&events[..3]).expect("write");
    drop(w);
    {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&zpath)
            .expect("append");
        let frame = zstd::encode_all(&b"not an event\n"[..], 3).expect("zstd");
        f.write_all(&frame).expect("w");
        let mut line = serde_json::to_vec(&events[3]).expect("json");
        line.push(b'\n');
        f.write_all(&zstd::encode_all(&line[..], 3).expect("zstd"))
            .expect("w");
    }
    let (got, errors) = read_all(&zpath).expect("open");
    assert_eq!(got, events[..4].to_vec());
    assert_eq!(errors.len(), 1);
    assert!(
        matches!(errors[0], CaptureError::BadLine { line: 4, .. }),
        "{:?}",
        errors[0]
    );
    assert!(
        errors[0].to_string().starts_with("line 4:"),
        "{}",
        errors[0]
    );
}

#[test]
fn a_truncated_zstd_tail_loses_only_the_last_batch() {
    let dir = tmp();
    let events = many(2);
    let path = dir.path().join("cut.jsonl.zst");
    let (a, rest) = events.split_at(10);
    let (b, c) = rest.split_at(10);
    let mut w = CaptureWriter::create(&path).expect("create");
    w.write_batch(a).expect("a");
    w.write_batch(b).expect("b");
    let two_frames = std::fs::metadata(&path).expect("meta").len();
    w.write_batch(c).expect("c");
    w.finish().expect("finish");
    let full = std::fs::read(&path).expect("read");

    // Cut the last frame at many points, as a crash in the middle of its write would.
    let mut cuts: Vec<usize> = (two_frames as usize + 1..full.len()).step_by(7).collect();
    cuts.push(full.len() - 1);
    for cut in cuts {
        let cut_path = dir.path().join(format!("cut{cut}.jsonl.zst"));
        std::fs::write(&cut_path, &full[..cut]).expect("write");
        let mut reader = CaptureReader::open(&cut_path).expect("open");
        let mut got = Vec::new();
        let mut errors = Vec::new();
        for item in reader.by_ref() {
            match item {
                Ok(e) => got.push(e),
                Err(e) => errors.push(e),
            }
        }
        assert!(got.len() >= 20, "cut at {cut}: only {} events", got.len());
        assert_eq!(got[..], events[..got.len()], "cut at {cut}");
        // A cut inside the frame's final checksum can still yield every event; the
        // truncation is reported all the same.
        assert_eq!(errors.len(), 1, "cut at {cut}: {errors:?}");
        assert!(
            matches!(errors[0], CaptureError::Truncated { .. }),
            "cut at {cut}: {:?}",
            errors[0]
        );
        assert!(errors[0].to_string().contains("truncated"), "{}", errors[0]);
    }

    // A cut exactly between frames is a clean, shorter file.
    let clean = dir.path().join("clean.jsonl.zst");
    std::fs::write(&clean, &full[..two_frames as usize]).expect("write");
    let (got, errors) = read_all(&clean).expect("open");
    assert_eq!(got, events[..20].to_vec());
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn a_truncated_plain_tail_is_reported_once() {
    let dir = tmp();
    let events = samples();
    let path = dir.path().join("cut.jsonl");
    write(&path, &[&events]);
    let full = std::fs::read(&path).expect("read");
    std::fs::write(&path, &full[..full.len() - 10]).expect("cut");
    let mut reader = CaptureReader::open(&path).expect("open");
    let items: Vec<_> = reader.by_ref().collect();
    assert_eq!(items.len(), events.len());
    assert!(items[..events.len() - 1].iter().all(Result::is_ok));
    match &items[events.len() - 1] {
        Err(CaptureError::Truncated { after_line, .. }) => {
            assert_eq!(*after_line, events.len() as u64 - 1)
        }
        other => panic!("expected truncation, got {other:?}"),
    }
    assert_eq!(reader.skipped(), 1);
}

#[test]
fn bytes_that_are_no_zstd_frame_are_skipped_and_reported() {
    let dir = tmp();
    let path = dir.path().join("junk.zst");
    let events = samples();
    write(&path, &[&events[..4]]);
    let mut bytes = std::fs::read(&path).expect("read");
    bytes.extend_from_slice(b"this is not zstd at all");
    std::fs::write(&path, &bytes).expect("write");
    let (got, errors) = read_all(&path).expect("open");
    assert_eq!(got, events[..4].to_vec());
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        matches!(
            errors[0],
            CaptureError::DamagedFrame {
                after_line: 4,
                bytes: 23,
                lines: 0,
                ..
            }
        ),
        "{:?}",
        errors[0]
    );
}

#[test]
fn a_missing_file_names_its_path() {
    let err =
        CaptureReader::open(Path::new("/nonexistent/dir/cap.jsonl.zst")).expect_err("no file");
    let msg = err.to_string();
    assert!(msg.contains("/nonexistent/dir/cap.jsonl.zst"), "{msg}");
    assert!(msg.contains("no such file"), "{msg}");
    let err = CaptureWriter::create(Path::new("/nonexistent/dir/out.jsonl")).expect_err("no dir");
    assert!(
        err.to_string().contains("/nonexistent/dir/out.jsonl"),
        "{err}"
    );
}

/// The set of key paths of a JSON value (`a`, `a.b`, `a[].c`); arrays merge their elements.
fn json_keys(v: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let p = format!("{prefix}{k}");
                out.insert(p.clone());
                json_keys(v, &format!("{p}."), out);
            }
        }
        serde_json::Value::Array(a) => {
            for v in a {
                json_keys(v, &format!("{}[].", prefix.trim_end_matches('.')), out);
            }
        }
        _ => {}
    }
}

/// The same for a BSON value.
fn bson_keys(v: &bson::Bson, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        bson::Bson::Document(d) => {
            for (k, v) in d {
                let p = format!("{prefix}{k}");
                out.insert(p.clone());
                bson_keys(v, &format!("{p}."), out);
            }
        }
        bson::Bson::Array(a) => {
            for v in a {
                bson_keys(v, &format!("{}[].", prefix.trim_end_matches('.')), out);
            }
        }
        _ => {}
    }
}

#[test]
fn bson_and_json_have_identical_field_names_for_every_kind() {
    for event in samples() {
        let json = serde_json::to_value(&event).expect("json");
        let mut doc = event_document(&event).expect("bson");
        assert_eq!(
            doc.remove("_id"),
            Some(bson::Bson::String(format!("{}:{}", event.run, event.seq)))
        );
        let mut jk = BTreeSet::new();
        json_keys(&json, "", &mut jk);
        let mut bk = BTreeSet::new();
        bson_keys(&bson::Bson::Document(doc), "", &mut bk);
        assert_eq!(jk, bk, "{}", event.kind.name());
        // Nested names are compared too (args[] of invalid UTF-8 are {text, hex} documents).
        assert!(jk.len() > 8, "{}: {jk:?}", event.kind.name());
    }
}

/// The file offsets where each zstd frame of `bytes` starts.
fn frame_starts(bytes: &[u8]) -> Vec<usize> {
    let magic = [0x28, 0xb5, 0x2f, 0xfd];
    bytes
        .windows(4)
        .enumerate()
        .filter(|(_, w)| *w == magic)
        .map(|(i, _)| i)
        .collect()
}

fn three_frames(dir: &Path) -> (Vec<Event>, Vec<u8>) {
    let events = many(3);
    let path = dir.join("three.jsonl.zst");
    let (a, rest) = events.split_at(15);
    let (b, c) = rest.split_at(20);
    write(&path, &[a, b, c]);
    (events, std::fs::read(&path).expect("read"))
}

fn read_bytes(dir: &Path, name: &str, bytes: &[u8]) -> (Vec<Event>, Vec<CaptureError>) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    read_all(&path).expect("open")
}

#[test]
fn a_corrupt_frame_costs_that_frame_only_and_never_yields_altered_events() {
    let dir = tmp();
    let (events, bytes) = three_frames(dir.path());
    let starts = frame_starts(&bytes);
    assert_eq!(starts.len(), 3);
    // Flip one byte at many places inside the middle frame (header, blocks, checksum).
    for at in (starts[1] + 4..starts[2])
        .step_by(13)
        .chain([starts[2] - 1])
    {
        let mut bad = bytes.clone();
        bad[at] ^= 0x5a;
        let (got, errors) = read_bytes(dir.path(), "flip.zst", &bad);
        let mut want = events[..15].to_vec();
        want.extend_from_slice(&events[35..]);
        assert_eq!(
            got, want,
            "flip at {at}: frames 1 and 3, nothing of frame 2"
        );
        assert_eq!(errors.len(), 1, "flip at {at}: {errors:?}");
        match &errors[0] {
            CaptureError::DamagedFrame {
                offset, after_line, ..
            } => {
                assert_eq!(*offset, starts[1] as u64, "flip at {at}");
                assert_eq!(*after_line, 15);
            }
            other => panic!("flip at {at}: {other:?}"),
        }
    }
    // The first frame's magic number damaged: its bytes are skipped to the next frame.
    let mut bad = bytes.clone();
    bad[0] = 0;
    let (got, errors) = read_bytes(dir.path(), "head.zst", &bad);
    assert_eq!(got, events[15..].to_vec());
    assert!(
        matches!(errors[..], [CaptureError::DamagedFrame { offset: 0, .. }]),
        "{errors:?}"
    );
}

#[test]
fn a_frame_cut_out_leaves_the_others_readable() {
    let dir = tmp();
    let (events, bytes) = three_frames(dir.path());
    let starts = frame_starts(&bytes);
    let mut cut = bytes[..starts[1]].to_vec();
    cut.extend_from_slice(&bytes[starts[2]..]);
    let (got, errors) = read_bytes(dir.path(), "cut.zst", &cut);
    assert!(
        errors.is_empty(),
        "whole frames: the reader sees no damage ({errors:?})"
    );
    let mut want = events[..15].to_vec();
    want.extend_from_slice(&events[35..]);
    assert_eq!(got, want, "the seq jump is what shows the loss (see load)");
    // Part of a frame cut out: that frame is damaged, the next one read.
    let mut cut = bytes[..starts[1] + 40].to_vec();
    cut.extend_from_slice(&bytes[starts[1] + 90..]);
    let (got, errors) = read_bytes(dir.path(), "hole.zst", &cut);
    assert_eq!(got, want);
    assert!(
        matches!(errors[..], [CaptureError::DamagedFrame { .. }]),
        "{errors:?}"
    );
}

#[test]
fn an_overlong_line_is_skipped_as_it_streams_past() {
    let dir = tmp();
    let events = samples();
    for name in ["long.jsonl", "long.jsonl.zst"] {
        let path = dir.path().join(name);
        let mut w = CaptureWriter::create(&path).expect("create");
        w.write_batch(&events[..3]).expect("write");
        w.finish().expect("finish");
        let mut bytes = std::fs::read(&path).expect("read");
        let mut long = vec![b'x'; 3 << 20];
        long.push(b'\n');
        if name.ends_with(".zst") {
            bytes.extend_from_slice(&zstd::bulk::compress(&long, 1).expect("compress"));
        } else {
            bytes.extend_from_slice(&long);
        }
        std::fs::write(&path, bytes).expect("write");
        let mut w = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("open");
        let tail = serde_json::to_vec(&events[3]).expect("json");
        if name.ends_with(".zst") {
            let mut line = tail.clone();
            line.push(b'\n');
            w.write_all(&zstd::bulk::compress(&line, 1).expect("compress"))
                .expect("write");
        } else {
            w.write_all(&tail).expect("write");
            w.write_all(b"\n").expect("write");
        }
        drop(w);
        let reader = CaptureReader::open(&path)
            .expect("open")
            .with_max_line(1 << 20);
        let items: Vec<_> = reader.collect();
        let got: Vec<&Event> = items.iter().filter_map(|i| i.as_ref().ok()).collect();
        assert_eq!(got.len(), 4, "{name}");
        assert_eq!(got[3], &events[3], "{name}");
        let errors: Vec<&CaptureError> = items.iter().filter_map(|i| i.as_ref().err()).collect();
        assert!(
            matches!(errors[..], [CaptureError::LineTooLong { line: 4, len }] if *len == 3 << 20),
            "{name}: {errors:?}"
        );
    }
}

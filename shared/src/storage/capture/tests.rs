//! Capture file tests: round trips, bad lines, truncated files, and BSON/JSON field names.

use std::collections::BTreeSet;
use std::io::Write as _;

use super::*;
use crate::storage::store::event_document;
use crate::testing::{samples, zstd_frame_starts as frame_starts};

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
        // The events and the end record.
        assert_eq!(reader.lines_read(), events.len() as u64 + 1);
    }
    // The .zst file really is compressed, one frame per non-empty batch and one for the end.
    let z = std::fs::read(dir.path().join("cap.jsonl.zst")).expect("read");
    let magic = [0x28, 0xb5, 0x2f, 0xfd];
    assert_eq!(z[..4], magic);
    assert_eq!(z.windows(4).filter(|w| *w == magic).count(), 3);
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
    assert_eq!(
        text.iter().filter(|b| **b == b'\n').count(),
        events.len() + 1
    );
    assert_eq!(text.last(), Some(&b'\n'));
    let last = text[..text.len() - 1].rsplit(|b| *b == b'\n').next();
    let want = format!("{{\"capture_end\":{{\"events\":{}}}}}", events.len());
    assert_eq!(last, Some(want.as_bytes()));
}

#[test]
fn a_corrupt_line_in_the_middle_is_reported_and_the_rest_is_read() {
    let dir = tmp();
    let events = samples();
    // Plain: good lines and their end record (line 6), then lines added to the closed capture:
    // a broken line (line 7), an invalid UTF-8 line (line 8), a good line, and no end record.
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
    let mut no_end = Vec::new();
    for item in reader.by_ref() {
        match item {
            Ok(_) => good += 1,
            Err(CaptureError::BadLine { line, message }) => {
                assert!(!message.is_empty());
                bad_lines.push(line);
            }
            Err(CaptureError::NoEnd { after_line, .. }) => no_end.push(after_line),
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(good, 6);
    assert_eq!(bad_lines, vec![7, 8]);
    assert_eq!(no_end, vec![9], "the added lines have no end record");
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
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        matches!(errors[1], CaptureError::NoEnd { after_line: 5, .. }),
        "the writer was never finished: {:?}",
        errors[1]
    );
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
    let three_frames = std::fs::metadata(&path).expect("meta").len() as usize;
    w.finish().expect("finish");
    let full = std::fs::read(&path).expect("read");

    // Cut the last frames (the last batch, the end record) at many points, as a crash in the
    // middle of a write would.
    let mut cuts: Vec<usize> = (two_frames as usize + 1..full.len()).step_by(7).collect();
    cuts.push(full.len() - 1);
    cuts.retain(|cut| *cut != three_frames);
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

    // A cut exactly between frames leaves whole frames: only the missing end record shows it.
    for (cut, kept) in [(two_frames as usize, 20), (three_frames, events.len())] {
        let clean = dir.path().join(format!("clean{cut}.jsonl.zst"));
        std::fs::write(&clean, &full[..cut]).expect("write");
        let (got, errors) = read_all(&clean).expect("open");
        assert_eq!(got, events[..kept].to_vec());
        assert!(
            matches!(errors[..], [CaptureError::NoEnd { after_line, .. }] if after_line == kept as u64),
            "cut at {cut}: {errors:?}"
        );
    }
}

#[test]
fn a_truncated_plain_tail_is_reported_once() {
    let dir = tmp();
    let events = samples();
    let path = dir.path().join("cut.jsonl");
    write(&path, &[&events]);
    let full = std::fs::read(&path).expect("read");
    // Ten bytes into the last event's line (the end record's line after it cut off too).
    let end_line = full[..full.len() - 1]
        .iter()
        .rev()
        .position(|b| *b == b'\n')
        .expect("two lines")
        + 1;
    std::fs::write(&path, &full[..full.len() - end_line - 10]).expect("cut");
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
                after_line: 5,
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
    assert_eq!(starts.len(), 4, "three batches and the end record");
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
        matches!(
            errors[..],
            [CaptureError::CountMismatch { written, read, .. }]
                if written == events.len() as u64 && read == written - 20
        ),
        "whole frames: the end record's count shows the loss ({errors:?})"
    );
    let mut want = events[..15].to_vec();
    want.extend_from_slice(&events[35..]);
    assert_eq!(got, want);
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
            matches!(
                errors[..],
                [CaptureError::LineTooLong { line: 5, len }, CaptureError::NoEnd { .. }]
                    if *len == 3 << 20
            ),
            "{name}: {errors:?}"
        );
    }
}

#[test]
fn a_capture_without_its_end_record_is_reported_after_its_last_event() {
    let dir = tmp();
    let events = samples();
    for name in ["open.jsonl", "open.jsonl.zst"] {
        let path = dir.path().join(name);
        // A recorder that stopped without closing the file (crash, kill, full disk).
        let mut w = CaptureWriter::create(&path).expect("create");
        w.write_batch(&events).expect("write");
        drop(w);
        let items: Vec<_> = CaptureReader::open(&path).expect("open").collect();
        assert_eq!(items.len(), events.len() + 1, "{name}");
        assert!(items[..events.len()].iter().all(Result::is_ok), "{name}");
        match &items[events.len()] {
            Err(e @ CaptureError::NoEnd { after_line, .. }) => {
                assert_eq!(*after_line, events.len() as u64, "{name}");
                assert!(e.to_string().contains("no end record"), "{e}");
            }
            other => panic!("{name}: expected a missing end, got {other:?}"),
        }
    }
    // A plain capture cut exactly after a line.
    let path = dir.path().join("whole.jsonl");
    write(&path, &[&events]);
    let full = std::fs::read(&path).expect("read");
    let second_line = full.iter().position(|b| *b == b'\n').expect("a line") + 1;
    std::fs::write(&path, &full[..second_line]).expect("cut");
    let (got, errors) = read_all(&path).expect("open");
    assert_eq!(got, events[..1].to_vec());
    assert!(
        matches!(errors[..], [CaptureError::NoEnd { after_line: 1, .. }]),
        "{errors:?}"
    );
    // An empty file is no closed capture either.
    std::fs::write(&path, b"").expect("empty");
    let (got, errors) = read_all(&path).expect("open");
    assert!(got.is_empty());
    assert!(matches!(
        errors[..],
        [CaptureError::NoEnd { after_line: 0, .. }]
    ));
}

#[test]
fn captures_joined_with_cat_read_as_whole_captures() {
    let dir = tmp();
    let events = many(2);
    let (a, b) = events.split_at(11);
    for ext in ["jsonl", "jsonl.zst"] {
        let first = dir.path().join(format!("a.{ext}"));
        let second = dir.path().join(format!("b.{ext}"));
        write(&first, &[a]);
        write(&second, &[b, &[]]);
        let mut joined = std::fs::read(&first).expect("read");
        joined.extend(std::fs::read(&second).expect("read"));
        let (got, errors) = read_bytes(dir.path(), &format!("joined.{ext}"), &joined);
        assert_eq!(got, events, "{ext}");
        assert!(errors.is_empty(), "{ext}: {errors:?}");
    }
}

#[test]
fn lines_removed_from_or_added_to_a_closed_capture_break_its_count() {
    let dir = tmp();
    let events = samples();
    let path = dir.path().join("edited.jsonl");
    write(&path, &[&events]);
    let full = String::from_utf8(std::fs::read(&path).expect("read")).expect("utf-8");
    let lines: Vec<&str> = full.lines().collect();
    // One event line removed from the middle.
    let mut removed = lines.clone();
    removed.remove(2);
    let (got, errors) = read_bytes(
        dir.path(),
        "removed.jsonl",
        (removed.join("\n") + "\n").as_bytes(),
    );
    assert_eq!(got.len(), events.len() - 1);
    match &errors[..] {
        [
            e @ CaptureError::CountMismatch {
                written,
                read,
                line,
                ..
            },
        ] => {
            assert_eq!(
                (*written, *read),
                (events.len() as u64, events.len() as u64 - 1)
            );
            assert_eq!(*line, events.len() as u64);
            assert!(e.to_string().contains("removed or added"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // One event line repeated before the end record.
    let mut added = lines.clone();
    added.insert(1, lines[0]);
    let (_, errors) = read_bytes(
        dir.path(),
        "added.jsonl",
        (added.join("\n") + "\n").as_bytes(),
    );
    assert!(
        matches!(errors[..], [CaptureError::CountMismatch { written, read, .. }] if read == written + 1),
        "{errors:?}"
    );
}

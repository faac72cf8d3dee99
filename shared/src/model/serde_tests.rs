//! Serde round trips of the event model through JSON (capture files) and BSON (MongoDB), for
//! every kind and for awkward bytes: newlines, NUL, invalid UTF-8, 4 KiB arguments.

use proptest::prelude::*;

use crate::model::event::{Event, EventKind, Exec};
use crate::model::text::ByteString;
use crate::testing::{awkward_bytes, long_arg, samples};

fn via_json(e: &Event) -> Event {
    let text = serde_json::to_string(e).expect("encode JSON");
    assert!(!text.contains('\n'), "one line per event");
    serde_json::from_str(&text).expect("decode JSON")
}

fn via_bson(e: &Event) -> Event {
    let doc = bson::serialize_to_document(e).expect("encode BSON");
    let back: Event = bson::deserialize_from_document(doc.clone()).expect("decode BSON document");
    // The store decodes raw bytes, not documents: check that path too.
    let bytes = doc.to_vec().expect("BSON bytes");
    let raw: Event = bson::deserialize_from_slice(&bytes).expect("decode BSON bytes");
    assert_eq!(raw, back);
    back
}

#[test]
fn every_kind_round_trips_through_json() {
    for e in samples() {
        assert_eq!(via_json(&e), e, "{}", e.kind.name());
    }
}

#[test]
fn every_kind_round_trips_through_bson() {
    for e in samples() {
        assert_eq!(via_bson(&e), e, "{}", e.kind.name());
    }
}

#[test]
fn kind_names_are_stored_as_the_kind_field() {
    for e in samples() {
        let v = serde_json::to_value(&e).expect("json");
        assert_eq!(v["kind"], e.kind.name());
        let d = bson::serialize_to_document(&e).expect("bson");
        assert_eq!(d.get_str("kind").expect("kind"), e.kind.name());
    }
}

#[test]
fn awkward_text_is_kept_exactly() {
    let exec = samples()
        .into_iter()
        .find(|e| matches!(e.kind, EventKind::Exec(_)))
        .expect("an exec sample");
    for back in [via_json(&exec), via_bson(&exec)] {
        let EventKind::Exec(Exec { process, .. }) = back.kind else {
            panic!("kind changed");
        };
        assert_eq!(
            process.args[2].as_bytes(),
            b"echo 'line one\nline two' > /tmp/x\0y"
        );
        assert_eq!(process.args[3], awkward_bytes());
        assert_eq!(process.args[4], long_arg());
        assert_eq!(process.args[4].len(), 4096);
    }
    // The stored forms: UTF-8 (even with NUL and newlines) as a string, other bytes as {text, hex}.
    let v = serde_json::to_value(&exec).expect("json");
    assert!(v["args"][2].is_string());
    assert_eq!(v["args"][3]["hex"], hex::encode(awkward_bytes().as_bytes()));
    assert!(
        v["args"][3]["text"]
            .as_str()
            .expect("text")
            .contains('\u{fffd}')
    );
}

/// A container event as recorded before mounts and the upper directory were: it still loads,
/// with none of them, and an event without mounts is stored without the keys.
#[test]
fn container_events_without_mounts_still_load() {
    let old = r#"{"host":"h","boot_id":"b","run":"r","seq":3,"time":1,"source":"docker",
        "kind":"container","id":"c","name":"web","rootfs":"/var/lib/docker/overlay2/x/merged"}"#;
    let e: Event = serde_json::from_str(old).expect("an old container event decodes");
    let EventKind::Container(c) = &e.kind else {
        panic!("kind changed");
    };
    assert_eq!(c.upper_dir, None);
    assert!(c.mounts.is_empty());
    let back = serde_json::to_value(&e).expect("json");
    assert!(back.get("mounts").is_none() && back.get("upper_dir").is_none());
    let doc = bson::serialize_to_document(&e).expect("bson");
    let raw = doc.to_vec().expect("BSON bytes");
    let from_bson: Event = bson::deserialize_from_slice(&raw).expect("decode BSON bytes");
    assert_eq!(from_bson, e);
}

fn exec_with(args: Vec<Vec<u8>>) -> Event {
    let mut e = samples()
        .into_iter()
        .find(|e| matches!(e.kind, EventKind::Exec(_)))
        .expect("an exec sample");
    if let EventKind::Exec(x) = &mut e.kind {
        x.process.args = args.into_iter().map(ByteString::from_bytes).collect();
        x.process.cwd = x.process.args.first().cloned();
    }
    e
}

proptest! {
    #[test]
    fn any_bytes_round_trip_through_json_and_bson(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let s = ByteString::from_bytes(bytes.clone());
        let json = serde_json::to_string(&s).expect("json");
        let back: ByteString = serde_json::from_str(&json).expect("from json");
        prop_assert_eq!(back.as_bytes(), &bytes[..]);
        prop_assert_eq!(json.starts_with('"'), std::str::from_utf8(&bytes).is_ok());

        let doc = bson::doc! { "v": bson::serialize_to_bson(&s).expect("bson") };
        let v = doc.get("v").cloned().expect("v");
        let back: ByteString = bson::deserialize_from_bson(v).expect("from bson");
        prop_assert_eq!(back.as_bytes(), &bytes[..]);
    }

    #[test]
    fn events_with_any_argument_bytes_round_trip(
        args in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..6)
    ) {
        let e = exec_with(args);
        prop_assert_eq!(&via_json(&e), &e);
        prop_assert_eq!(&via_bson(&e), &e);
    }
}

//! Property tests: arbitrary bytes and mutated real records never panic the parser or the
//! assembler; every malformed line is counted and the rest goes on.

#![allow(clippy::unwrap_used)] // Tests may unwrap: a failure is the test failing.

mod common;

use std::sync::LazyLock;

use dockwatch_listener::recording::audit::{Assembler, parse_log_line, parse_netlink};
use dockwatch_shared::Timestamp;
use proptest::prelude::*;

static REAL: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    let mut v = common::fixture_lines("small-raw.log");
    v.extend(common::fixture_lines("small-enriched.log"));
    v.extend(common::fixture_lines("handwritten-edge-cases.log"));
    v
});

/// Touches every accessor of a parsed record, so lazy decoding is exercised too.
fn touch(r: &dockwatch_listener::recording::audit::Record) {
    let _ = (
        r.type_name(),
        r.time(),
        r.serial(),
        r.node(),
        r.is_enriched(),
    );
    for (k, v) in r.fields().chain(r.enriched_fields()) {
        let _ = (
            k,
            v.text(),
            v.byte_string(),
            v.dec::<i64>(),
            v.hex(),
            v.oct(),
        );
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    Set(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate,
    SwapWithNext,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (
            any::<usize>(),
            prop::sample::select(vec![
                b'"', b'\'', b'=', b' ', 0x1d, b'(', b')', b':', b'.', b'0'
            ])
        )
            .prop_map(|(i, b)| Mutation::Set(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1usize..40).prop_map(|(i, n)| Mutation::Delete(i, n)),
        Just(Mutation::Duplicate),
        Just(Mutation::SwapWithNext),
    ]
}

fn apply(lines: &mut Vec<Vec<u8>>, at: usize, m: &Mutation) {
    if lines.is_empty() {
        return;
    }
    let at = at % lines.len();
    let line = &mut lines[at];
    let pos = |i: usize, len: usize| if len == 0 { 0 } else { i % len };
    match m {
        Mutation::Set(i, b) => {
            if !line.is_empty() {
                let p = pos(*i, line.len());
                line[p] = *b;
            }
        }
        Mutation::Truncate(i) => {
            let p = pos(*i, line.len() + 1);
            line.truncate(p);
        }
        Mutation::Insert(i, v) => {
            let p = pos(*i, line.len() + 1);
            line.splice(p..p, v.iter().copied());
        }
        Mutation::Delete(i, n) => {
            let p = pos(*i, line.len() + 1);
            let end = (p + n).min(line.len());
            line.drain(p..end);
        }
        Mutation::Duplicate => {
            let copy = line.clone();
            lines.insert(at, copy);
        }
        Mutation::SwapWithNext => {
            if at + 1 < lines.len() {
                lines.swap(at, at + 1);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400), rtype in any::<u16>()) {
        if let Ok(r) = parse_log_line(&bytes) { touch(&r); }
        if let Ok(r) = parse_netlink(rtype, &bytes) { touch(&r); }
        let mut framed = b"type=SYSCALL msg=audit(1.000:1): ".to_vec();
        framed.extend_from_slice(&bytes);
        if let Ok(r) = parse_log_line(&framed) {
            touch(&r);
            let mut asm = Assembler::new("h", "b");
            let mut out: Vec<dockwatch_shared::Event> = Vec::new();
            asm.push(r, &mut out);
            asm.finish(&mut out);
        }
    }

    #[test]
    fn mutated_real_records_are_counted_and_the_rest_goes_on(
        start in 0usize..800,
        len in 1usize..80,
        mutations in prop::collection::vec((any::<usize>(), mutation()), 0..12),
    ) {
        let real = &*REAL;
        let start = start % real.len();
        let mut lines: Vec<Vec<u8>> = real[start..(start + len).min(real.len())].to_vec();
        for (at, m) in &mutations {
            apply(&mut lines, *at, m);
        }
        let mut asm = Assembler::new("h", "b");
        let mut out: Vec<dockwatch_shared::Event> = Vec::new();
        let (mut good, mut bad) = (0u64, 0u64);
        for (i, l) in lines.iter().enumerate() {
            match parse_log_line(l) {
                Ok(r) => {
                    touch(&r);
                    good += 1;
                    asm.push(r, &mut out);
                }
                Err(e) => {
                    bad += 1;
                    asm.parse_error(&e, format!("line {}", i + 1));
                }
            }
            if i % 7 == 0 {
                asm.flush_older_than(Timestamp(0), &mut out);
            }
        }
        asm.finish(&mut out);
        let c = asm.counters();
        prop_assert_eq!(c.records, good);
        prop_assert_eq!(c.parse_errors, bad);
        prop_assert_eq!(c.events, out.len() as u64);
        prop_assert_eq!(asm.pending(), 0);
        let parse_gaps: u64 = out
            .iter()
            .filter_map(|e| match &e.kind {
                dockwatch_shared::EventKind::Gap(g) if g.reason == dockwatch_shared::model::event::GapReason::ParseError => g.lost,
                _ => None,
            })
            .sum();
        prop_assert_eq!(parse_gaps, bad, "every bad line is in a parse_error gap");
        for e in &out {
            prop_assert!(e.run.is_empty() && e.seq == 0);
            serde_json::to_string(e).unwrap();
        }
    }
}

#[test]
fn unmutated_real_records_all_parse() {
    let mut real = common::fixture_lines("small-raw.log");
    real.extend(common::fixture_lines("small-enriched.log"));
    for l in &real {
        touch(&parse_log_line(l).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(l))));
    }
}

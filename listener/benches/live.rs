//! Throughput of the live recorder's per-event stages downstream of the audit parser:
//! fd tracking and write coalescing ([`FdPaths`], live mode, clone calls included) on the events of the large real fixture
//! (a busy container recorded on this project's kernel), and decoding process connector
//! datagrams.
//!
//! `cargo bench -p dockwatch-listener --bench live`; figures are events/s on one core.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dockwatch_listener::enrich::fd_paths::{Assembled, FdPaths};
use dockwatch_listener::kernel::connector::parse_datagram;
use dockwatch_listener::recording::audit::{Assembler, parse_log_line};

fn fixture_events() -> Vec<Assembled> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/large-raw.log.zst"
    );
    let compressed = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let log = zstd::decode_all(&compressed[..]).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut asm = Assembler::new("bench", "bench");
    let mut out: Vec<Assembled> = Vec::new();
    for line in log.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        if let Ok(r) = parse_log_line(line) {
            asm.push(r, &mut out);
        }
    }
    asm.finish(&mut out);
    out
}

fn fork_datagram() -> Vec<u8> {
    let mut p = Vec::new();
    for v in [1u32, 1, 7, 0] {
        p.extend_from_slice(&v.to_ne_bytes());
    }
    p.extend_from_slice(&32u16.to_ne_bytes());
    p.extend_from_slice(&0u16.to_ne_bytes());
    p.extend_from_slice(&1u32.to_ne_bytes()); // PROC_EVENT_FORK
    p.extend_from_slice(&0u32.to_ne_bytes()); // cpu
    p.extend_from_slice(&123u64.to_ne_bytes());
    for v in [10i32, 10, 11, 11] {
        p.extend_from_slice(&v.to_ne_bytes());
    }
    let mut m = Vec::new();
    m.extend_from_slice(&((16 + p.len()) as u32).to_ne_bytes());
    m.extend_from_slice(&3u16.to_ne_bytes());
    m.extend_from_slice(&[0; 10]);
    m.extend_from_slice(&p);
    m
}

fn bench(c: &mut Criterion) {
    let events = fixture_events();
    let mut group = c.benchmark_group("live");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function("fd_paths", |b| {
        b.iter_batched(
            || events.clone(),
            |evs| {
                let mut ft = FdPaths::live();
                let mut out = Vec::with_capacity(evs.len());
                for e in evs {
                    match e {
                        Assembled::Event(e) => ft.process(e, &mut out),
                        Assembled::Clone { time, call, .. } => ft.clone_call(time, call, &mut out),
                    }
                }
                ft.finish(&mut out);
                black_box(out.len())
            },
            criterion::BatchSize::LargeInput,
        )
    });
    let d = fork_datagram();
    group.throughput(Throughput::Elements(1));
    group.bench_function("connector_decode", |b| {
        b.iter(|| black_box(parse_datagram(black_box(&d))))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

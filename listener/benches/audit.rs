//! Parse + assemble throughput on real records: the large fixture (257,579 records of a busy
//! container, recorded on this project's kernel by `tests/fixtures/record.sh large`).
//!
//! `cargo bench -p dockwatch-listener --bench audit`; the figure is records/s on one core
//! (criterion's "thrpt" in elements/s). The end-to-end comparison with laurel is
//! `benches/vs-laurel.sh`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dockwatch_listener::audit::{Assembler, parse_log_line};

fn large_log() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/large-raw.log.zst"
    );
    let compressed = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    zstd::decode_all(&compressed[..]).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn bench(c: &mut Criterion) {
    let log = large_log();
    let lines: Vec<&[u8]> = log
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let mut group = c.benchmark_group("audit");
    group.sample_size(10);
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("parse", |b| {
        b.iter(|| {
            for l in &lines {
                let _ = black_box(parse_log_line(l));
            }
        })
    });
    group.bench_function("parse+assemble", |b| {
        b.iter(|| {
            let mut asm = Assembler::new("bench", "boot");
            let mut out = Vec::with_capacity(4096);
            let mut events = 0usize;
            for l in &lines {
                match parse_log_line(l) {
                    Ok(r) => asm.push(r, &mut out),
                    Err(e) => asm.parse_error(&e, "bench"),
                }
                if out.len() >= 2000 {
                    events += out.len();
                    black_box(&out);
                    out.clear();
                }
            }
            asm.finish(&mut out);
            black_box(events + out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

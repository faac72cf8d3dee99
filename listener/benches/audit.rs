//! Parse + assemble throughput on real records: the large fixture (257,579 records of a busy
//! container, recorded on this project's kernel by `tests/fixtures/record.sh large`).
//!
//! `cargo bench -p dockwatch-listener --bench audit`; the figure is records per second of CPU
//! time on one core (criterion's "thrpt" in elements/s). Time is the benchmark thread's own CPU
//! time (`CLOCK_THREAD_CPUTIME_ID`), not the wall clock, so other work on a shared machine does
//! not show up as slowness. The end-to-end comparison with laurel is `benches/vs-laurel.sh`.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dockwatch_listener::import::Importer;
use dockwatch_listener::recording::audit::{Assembler, parse_log_line};

/// CPU time of the calling thread.
struct ThreadCpuTime;

static WALL: WallTime = WallTime;

fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the call only writes to it.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Measurement for ThreadCpuTime {
    type Intermediate = Duration;
    type Value = Duration;
    fn start(&self) -> Duration {
        thread_cpu()
    }
    fn end(&self, start: Duration) -> Duration {
        thread_cpu().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL.formatter()
    }
}

fn large_log() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/large-raw.log.zst"
    );
    let compressed = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    zstd::decode_all(&compressed[..]).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn bench(c: &mut Criterion<ThreadCpuTime>) {
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
            let mut out: Vec<dockwatch_shared::Event> = Vec::with_capacity(4096);
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
    // What `godo --audit-log` does between reading lines and writing events: the assembler,
    // then the fd table (paths, write coalescing, quiet runs flushed by record time).
    group.bench_function("parse+assemble+fd", |b| {
        b.iter(|| {
            let mut import = Importer::new("bench", "boot");
            let mut out = Vec::with_capacity(4096);
            let mut events = 0usize;
            for l in &lines {
                match parse_log_line(l) {
                    Ok(r) => import.push(r, &mut out),
                    Err(e) => import.parse_error(&e, "bench"),
                }
                if out.len() >= 2000 {
                    events += out.len();
                    black_box(&out);
                    out.clear();
                }
            }
            import.finish(&mut out);
            black_box(events + out.len())
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = bench
}
criterion_main!(benches);

//! Runs the pipeline once on N synthetic events (default 1,000,000) and prints its wall time and
//! the peak of heap memory in use during the run, measured by a counting global allocator.
//!
//! `cargo run --release -p dockwatch-shared --example pipeline_peak [N]`; for the process's
//! whole peak RSS run the built binary under `/usr/bin/time -v`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use dockwatch_shared::pipeline::{Step, investigate, synthetic};
use dockwatch_shared::time::Timestamp;

/// Counts bytes in use and their peak; everything else is the system allocator.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: delegates every call to the system allocator unchanged; only counts sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size > layout.size() {
                let now = IN_USE.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size
                    - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                IN_USE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// CPU time of this process so far (user + system), from `/proc/self/stat`: the machine may be
/// shared, so wall time alone says little.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_comm = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat; after the comm they are at 11 and 12.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);

    // 1. Time: events generated first, then the pipeline alone, step by step.
    let events: Vec<_> = synthetic::events(n).collect();
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let mut last = (Step::Sort, Instant::now(), cpu_seconds());
    let mut steps = Vec::new();
    let inv = investigate(
        events,
        synthetic::HOST,
        synthetic::BOOT_ID,
        Timestamp(0),
        &mut |p| {
            if p.step != last.0 {
                steps.push(format!(
                    "{:?} {:.0}/{:.0} ms",
                    last.0,
                    last.1.elapsed().as_secs_f64() * 1e3,
                    (cpu_seconds() - last.2) * 1e3
                ));
                last = (p.step, Instant::now(), cpu_seconds());
            }
        },
    );
    println!(
        "{n} events: pipeline {:.3} s wall, {:.2} s CPU ({} tree processes, {} file records)",
        wall.elapsed().as_secs_f64(),
        cpu_seconds() - cpu,
        inv.stats.tree_processes,
        inv.stats.files
    );
    println!(
        "  steps (wall/CPU, CPU in 10 ms ticks, input push included in Sort's time: no): {}",
        steps.join(", ")
    );
    drop(inv);

    // 2. Streaming, as from a store cursor: events generated one at a time while the pipeline
    // takes them. The generator's own cost is measured alone first and subtracted.
    let cpu = cpu_seconds();
    let mut count = 0usize;
    for e in synthetic::events(n) {
        count += usize::from(!e.host.is_empty());
    }
    let generate = cpu_seconds() - cpu;
    let before = IN_USE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let cpu = cpu_seconds();
    let inv = investigate(
        synthetic::events(n),
        synthetic::HOST,
        synthetic::BOOT_ID,
        Timestamp(0),
        &mut |_| {},
    );
    let streamed = cpu_seconds() - cpu;
    let peak = PEAK.load(Ordering::Relaxed) - before;
    println!(
        "{count} events fed one at a time: peak heap {:.1} MB; {:.2} s CPU with generation, generation alone {:.2} s: pipeline {:.2} s CPU (result {} processes)",
        peak as f64 / 1e6,
        streamed,
        generate,
        streamed - generate,
        inv.stats.tree_processes
    );
}

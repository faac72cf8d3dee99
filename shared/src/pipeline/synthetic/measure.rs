//! What the pipeline's benchmark and the `pipeline_peak` example measure with: a counting
//! global allocator (the peak of heap in use while a closure runs), the process's CPU time and
//! the machine's load average.
//!
//! A binary opts in with
//! `#[global_allocator] static GLOBAL: CountingAllocator = CountingAllocator;`; without that
//! the counters stay at zero.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

static COUNTING: AtomicBool = AtomicBool::new(false);
static IN_USE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

/// The system allocator, counting the bytes in use and their peak while [`peak_heap_of`] runs
/// (and costing one relaxed load per call otherwise, so timings taken outside it are the system
/// allocator's).
#[derive(Debug, Default)]
pub struct CountingAllocator;

fn grew(by: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        let by = by as isize;
        let now = IN_USE.fetch_add(by, Ordering::Relaxed) + by;
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
}

fn shrank(by: usize) {
    if COUNTING.load(Ordering::Relaxed) {
        IN_USE.fetch_sub(by as isize, Ordering::Relaxed);
    }
}

// SAFETY: every call goes to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which we pass on.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            let old = layout.size();
            if new_size >= old {
                grew(new_size - old);
            } else {
                shrank(old - new_size);
            }
        }
        p
    }
}

/// Runs `f` and returns its result with the most heap it had in use at once (bytes), counted by
/// a [`CountingAllocator`] installed as the global allocator (0 without one). Memory `f` frees
/// that was allocated before it started lowers the figure, so `f` should make its own input
/// (as the streamed benchmark does).
pub fn peak_heap_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    IN_USE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let out = f();
    COUNTING.store(false, Ordering::Relaxed);
    (out, PEAK.load(Ordering::Relaxed).max(0) as usize)
}

/// CPU time of this process so far (user + system, seconds), from `/proc/self/stat` (0 where
/// it cannot be read): on a shared machine wall time alone says little.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The command name (field 2) may hold spaces; utime and stime are fields 14 and 15, the
    // 12th and 13th after the name's closing parenthesis.
    let after_comm = stat.rsplit(')').next().unwrap_or("");
    let ticks: f64 = after_comm
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<f64>().ok())
        .sum();
    // Linux reports these in clock ticks of 1/100 s (USER_HZ) on every architecture it runs on.
    ticks / 100.0
}

/// CPU time of the calling thread so far (user + system, in nanoseconds but brought up to date
/// only at scheduler ticks, so good to a few milliseconds), from `/proc/thread-self/schedstat`; `None` where it cannot be read. Benchmarks time with it because
/// on a shared machine wall time measures the neighbours too.
pub fn thread_cpu() -> Option<std::time::Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(std::time::Duration::from_nanos(ns))
}

/// The machine's load averages over 1, 5 and 15 minutes, from `/proc/loadavg` (`None` where it
/// cannot be read): printed beside timings so they can be judged.
pub fn load_average() -> Option<(f64, f64, f64)> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some((it.next()??, it.next()??, it.next()??))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_with_work_and_load_is_read() {
        let before = cpu_seconds();
        let mut x = 0u64;
        let started = std::time::Instant::now();
        // Spin until a clock tick is charged to us (a broken reader never sees one).
        while cpu_seconds() <= before && started.elapsed().as_secs() < 10 {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
        }
        assert!(cpu_seconds() > before, "{x}");
        assert!(load_average().is_some());
        // The kernel charges a running thread its time at clock ticks and switches, not when
        // it is read: spin until it has been charged some.
        let a = thread_cpu().expect("schedstat");
        let started = std::time::Instant::now();
        while thread_cpu().expect("schedstat") <= a && started.elapsed().as_secs() < 10 {
            for _ in 0..100_000 {
                x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
            }
        }
        assert!(thread_cpu().expect("schedstat") > a, "{x}");
    }
}

//! What the pipeline's benchmark and the `pipeline_peak` example measure with: a counting
//! global allocator (heap in use and its peak) and the process's CPU time.
//!
//! A binary opts in with
//! `#[global_allocator] static GLOBAL: CountingAllocator = CountingAllocator;`; without that
//! the counters stay at zero.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting the bytes in use and their peak.
#[derive(Debug, Default)]
pub struct CountingAllocator;

fn grew(by: usize) {
    let now = IN_USE.fetch_add(by, Ordering::Relaxed) + by;
    PEAK.fetch_max(now, Ordering::Relaxed);
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
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            let old = layout.size();
            if new_size >= old {
                grew(new_size - old);
            } else {
                IN_USE.fetch_sub(old - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

/// Bytes of heap in use now.
pub fn heap_in_use() -> usize {
    IN_USE.load(Ordering::Relaxed)
}

/// Runs `f` and returns its result with the most heap it had in use at once, above what was in
/// use when it started (bytes).
pub fn peak_heap_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = heap_in_use();
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed).saturating_sub(base))
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
    }
}

//! The report's timer: CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID` on Linux), so
//! that time the thread spends descheduled while other processes run does not count. On a
//! 2-core machine shared with compilers, wall time mostly measures the scheduler; the CPU time
//! of a single-threaded, compute-bound loop is its run time. Elsewhere: wall time.
#![allow(unsafe_code)]

use core::time::Duration;

/// A point on the timer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stamp(Duration);

impl Stamp {
    /// Now.
    pub(crate) fn now() -> Stamp {
        Stamp(now())
    }

    /// Seconds since `self`.
    pub(crate) fn elapsed_secs(self) -> f64 {
        now().saturating_sub(self.0).as_secs_f64()
    }
}

/// What the timer measures, for the report's header.
pub(crate) const KIND: &str = if cfg!(target_os = "linux") {
    "thread CPU time"
} else {
    "wall time"
};

#[cfg(target_os = "linux")]
fn now() -> Duration {
    /// `struct timespec` on 64-bit Linux.
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    unsafe extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    let mut ts = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: glibc's clock_gettime writes one `struct timespec` (two 64-bit fields on 64-bit
    // Linux, the only targets the benches run on) through a valid, exclusive pointer.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[cfg(not(target_os = "linux"))]
fn now() -> Duration {
    use std::sync::OnceLock;
    use std::time::Instant;
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed()
}

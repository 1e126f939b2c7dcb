//! Peak resident memory (Linux `VmHWM`) of this process or of a child, for the reports.

use core::time::Duration;
use std::process::{Child, ExitStatus};

/// `VmHWM` of process `pid` in KiB (`None` where /proc has no such process).
pub fn vm_hwm_kib(pid: u32) -> Option<u64> {
    hwm(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

/// `VmHWM` of this process in KiB (0 where /proc is not available).
pub fn self_vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| hwm(&s))
        .unwrap_or(0)
}

/// Waits for `child`, sampling its `VmHWM` every `every`: its exit status and the largest
/// sample in KiB.
///
/// # Errors
/// When waiting for the child fails.
pub fn wait_sampling_peak(
    child: &mut Child,
    every: Duration,
) -> std::io::Result<(ExitStatus, u64)> {
    let mut peak = 0;
    loop {
        if let Some(kib) = vm_hwm_kib(child.id()) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait()? {
            return Ok((status, peak));
        }
        std::thread::sleep(every);
    }
}

fn hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

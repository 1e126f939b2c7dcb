//! One-run report: the peak RSS of `osscse put - oss://…` while a pipe feeds it GiBs of
//! generated data (a stream of unknown length, uploaded as a multipart upload), against the
//! loopback server running in this process with `discard_part_bodies` (it keeps each part's
//! length and CRC-64, not its bytes, so it holds no more than a part either).
//!
//! ```text
//! cargo run --release -p osscse-benches --bin stdin-report [-- MIB [PART_BYTES]]
//! ```
//! MIB (default 6144 = 6 GiB) is how much is piped in; PART_BYTES the `--part-size` (default:
//! the CLI's own, 8 MiB). The `osscse` binary is `$OSSCSE_BIN` if set, else built with
//! `cargo build --release -p osscse-std --bin osscse`. The data is a deterministic xorshift
//! pattern written by a thread of this process into the child's stdin; the peak RSS is the
//! child's VmHWM from /proc/PID/status, sampled until it exits. The upload is checked by the
//! CLI itself: CompleteMultipartUpload's CRC-64 must equal the CRC-64 of what it sent.
//! Last line: `stdin_mib=… part_bytes=… parts=… seconds=… mb_per_s=… peak_rss_mib=…`
//! (target: peak RSS ≤ 64 MiB for 6 GiB).
#![forbid(unsafe_code)]
#![deny(rustdoc::broken_intra_doc_links)]
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    missing_docs
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use osscse_std::keys::generate_rsa;
use osscse_tests::{Config, EtagPolicy, Server};

/// The CLI's default part size for stdin.
const DEFAULT_PART: u64 = 8 << 20;

/// `$OSSCSE_BIN`, or the release `osscse` built now.
fn osscse_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("OSSCSE_BIN") {
        return PathBuf::from(p);
    }
    osscse_benches::report::release_binary("osscse-std", "osscse")
}

/// Writes `len` bytes of a deterministic pattern to `out`, 1 MiB at a time.
fn feed(mut out: impl Write, len: u64) {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut block = vec![0u8; 1 << 20];
    let mut left = len;
    while left > 0 {
        for chunk in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        if out.write_all(&block[..n]).is_err() {
            return; // The child is gone; its exit status says why.
        }
        left -= n as u64;
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: u64 = args.next().map_or(6144, |a| a.parse().expect("MIB"));
    let part: u64 = args
        .next()
        .map_or(DEFAULT_PART, |a| a.parse().expect("PART_BYTES"));
    let len = mib << 20;
    let bin = osscse_binary();
    let mut config = Config::new("ak", "sk");
    config.etag = EtagPolicy::Crc64;
    config.discard_part_bodies = true;
    let server = Server::start(config).unwrap();
    let dir = tempfile::tempdir_in(std::env::temp_dir()).unwrap();
    let public_pem = dir.path().join("public.pem");
    std::fs::write(&public_pem, generate_rsa(2048).unwrap().public_pem).unwrap();

    let start = Instant::now();
    let mut child = Command::new(&bin)
        .args(["--quiet", "put", "-", "oss://bench/stdin.bin"])
        .args(["--part-size", &part.to_string()])
        .args(["--public-key", public_pem.to_str().unwrap()])
        .args(["--endpoint", &server.endpoint(), "--region", "cn-hangzhou"])
        .env("OSS_ACCESS_KEY_ID", "ak")
        .env("OSS_ACCESS_KEY_SECRET", "sk")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || feed(stdin, len));
    let (status, peak_kib) =
        osscse_benches::rss::wait_sampling_peak(&mut child, Duration::from_millis(20)).unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert!(status.success(), "osscse put - failed: {status}");
    writer.join().unwrap();
    println!("osscse: {}", bin.display());
    println!(
        "stdin_mib={mib} part_bytes={part} parts={} seconds={secs:.1} mb_per_s={:.0} peak_rss_mib={:.1}",
        len.div_ceil(part).max(1),
        len as f64 / secs / 1e6,
        peak_kib as f64 / 1024.0
    );
}

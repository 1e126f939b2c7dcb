//! `server-report`: how fast the loopback server receives and serves one object, measured with
//! a raw client that only writes and reads bytes (so the figure is the server's, not a
//! client's).
//!
//! ```text
//! cargo run --release -p osscse-tests --bin server-report [-- MIB [ROUNDS [BASELINE_SERVER]]]
//! ```
//! MIB (default 1024) is the object size, ROUNDS (default 3) how many PUT+GET rounds give each
//! median. Each server is an `osscse-server` child process (the one built next to this binary,
//! with `--etag md5` and `--etag crc64`, and optionally BASELINE_SERVER, an older build, for a
//! same-run comparison); its CPU seconds per GiB come from /proc/PID/stat. One line per
//! server: `server=… put_gbps=… get_gbps=… put_server_cpu_s_per_gib=… get_server_cpu_s_per_gib=…`
//! (targets: put ≥ 2 GB/s with `--etag crc64`, get ≥ 3.5 GB/s, on an idle machine).
//!
//! Each round ends with a DELETE of the object, so from the second round on the server receives
//! into the memory the deleted object left (it keeps a few large buffers, as a long-running
//! server's allocator would); the first round also pays a page fault per 4 KiB received, which
//! costs about as much as receiving the bytes. The median of three rounds is a steady-state
//! figure; pass ROUNDS 1 to see the first round alone.
#![forbid(unsafe_code)]
// A std-only report: `core`/`alloc` paths would add nothing here.
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use osscse_core::sign::{Credentials, Request, v4};

const CHUNK: usize = 4 << 20;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// utime + stime of process `pid` in seconds (USER_HZ = 100 on Linux), including its exited
/// threads.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields after the command: state is index 0, utime is field 14 overall (index 11 here).
    (ticks(11) + ticks(12)) / 100.0
}

fn signed_head(method: &str, key: &str, len: Option<u64>) -> io::Result<String> {
    let cred = Credentials::new("ak", "sk");
    let req = Request {
        method,
        bucket: Some("bench"),
        key: Some(key),
        query: &[],
        headers: &[],
    };
    let signed = v4::sign_headers(&req, &cred, &v4::Params::new("cn-hangzhou"), now())
        .map_err(|e| io::Error::other(e.to_string()))?;
    let mut head = format!("{method} /bench/{key} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (n, v) in signed.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if let Some(l) = len {
        head.push_str(&format!("Content-Length: {l}\r\n"));
    }
    head.push_str("\r\n");
    Ok(head)
}

/// Reads a response head; returns (status, content-length).
fn read_head(r: &mut BufReader<TcpStream>) -> io::Result<(u16, u64)> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut len = 0;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    Ok((status, len))
}

fn put(addr: SocketAddr, pid: u32, size: u64, data: &[u8]) -> io::Result<(f64, f64)> {
    let mut s = TcpStream::connect(addr)?;
    let head = signed_head("PUT", "obj", Some(size))?;
    let (t0, c0) = (Instant::now(), cpu_seconds(pid));
    s.write_all(head.as_bytes())?;
    let mut left = size;
    while left > 0 {
        let n = (data.len() as u64).min(left) as usize;
        s.write_all(&data[..n])?;
        left -= n as u64;
    }
    let mut r = BufReader::new(s);
    let (status, len) = read_head(&mut r)?;
    io::copy(&mut r.by_ref().take(len), &mut io::sink())?;
    if status != 200 {
        return Err(io::Error::other(format!("PUT answered {status}")));
    }
    Ok((t0.elapsed().as_secs_f64(), cpu_seconds(pid) - c0))
}

/// Deletes the object (not timed), so the next PUT can be received into its memory.
fn delete(addr: SocketAddr) -> io::Result<()> {
    let mut s = TcpStream::connect(addr)?;
    s.write_all(signed_head("DELETE", "obj", None)?.as_bytes())?;
    let mut r = BufReader::new(s);
    let (status, len) = read_head(&mut r)?;
    io::copy(&mut r.by_ref().take(len), &mut io::sink())?;
    if status != 204 {
        return Err(io::Error::other(format!("DELETE answered {status}")));
    }
    Ok(())
}

fn get(addr: SocketAddr, pid: u32, size: u64) -> io::Result<(f64, f64)> {
    let mut s = TcpStream::connect(addr)?;
    let head = signed_head("GET", "obj", None)?;
    let (t0, c0) = (Instant::now(), cpu_seconds(pid));
    s.write_all(head.as_bytes())?;
    let mut r = BufReader::with_capacity(CHUNK, s);
    let (status, len) = read_head(&mut r)?;
    if status != 200 || len != size {
        return Err(io::Error::other(format!(
            "GET answered {status}, {len} bytes"
        )));
    }
    let mut buf = vec![0u8; CHUNK];
    let mut got = 0u64;
    while got < len {
        match r.read(&mut buf)? {
            0 => return Err(io::Error::other("GET body cut short")),
            n => got += n as u64,
        }
    }
    Ok((t0.elapsed().as_secs_f64(), cpu_seconds(pid) - c0))
}

/// A server child process, killed when dropped.
struct Child2(Child);

impl Drop for Child2 {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `binary` on a free port; returns the child and the address it printed.
fn spawn(binary: &PathBuf, args: &[&str]) -> io::Result<(Child2, SocketAddr)> {
    let mut child = Child2(
        Command::new(binary)
            .args([
                "--listen",
                "127.0.0.1:0",
                "--access-key-id",
                "ak",
                "--access-key-secret",
                "sk",
            ])
            .args(args)
            .stdout(Stdio::piped())
            .spawn()?,
    );
    let out = child
        .0
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("no stdout"))?;
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line)?;
    let addr = line
        .rsplit("http://")
        .next()
        .and_then(|a| a.trim().parse().ok())
        .ok_or_else(|| io::Error::other(format!("{binary:?} printed {line:?}")))?;
    Ok((child, addr))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn run(name: &str, binary: &PathBuf, args: &[&str], mib: u64, rounds: usize) -> io::Result<()> {
    let (child, addr) = spawn(binary, args)?;
    let pid = child.0.id();
    let size = mib << 20;
    let data: Vec<u8> = (0..CHUNK)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
        .collect();
    let gib = size as f64 / f64::from(1u32 << 30);
    let (mut pw, mut pc, mut gw, mut gc) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (w, c) = put(addr, pid, size, &data)?;
        pw.push(size as f64 / w / 1e9);
        pc.push(c / gib);
        let (w, c) = get(addr, pid, size)?;
        gw.push(size as f64 / w / 1e9);
        gc.push(c / gib);
        delete(addr)?;
    }
    println!(
        "server={name} size_mib={mib} rounds={rounds} put_gbps={:.2} get_gbps={:.2} put_server_cpu_s_per_gib={:.2} get_server_cpu_s_per_gib={:.2}",
        median(pw),
        median(gw),
        median(pc),
        median(gc)
    );
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mib = args.next().and_then(|v| v.parse().ok()).unwrap_or(1024);
    let rounds = args.next().and_then(|v| v.parse().ok()).unwrap_or(3);
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    println!(
        "cpu: {model}, {} logical CPUs",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let own = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("osscse-server")))
        .unwrap_or_else(|| PathBuf::from("osscse-server"));
    let mut runs: Vec<(String, PathBuf, Vec<&str>)> = vec![
        ("md5".into(), own.clone(), vec!["--etag", "md5"]),
        ("crc64".into(), own, vec!["--etag", "crc64"]),
    ];
    if let Some(base) = args.next() {
        runs.insert(0, ("baseline".into(), PathBuf::from(base), vec![]));
    }
    for (name, binary, extra) in &runs {
        if let Err(e) = run(name, binary, extra, mib, rounds) {
            eprintln!("server-report: {name} ({binary:?}): {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

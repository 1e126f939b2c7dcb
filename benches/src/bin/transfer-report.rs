//! One-run transfer report through the loopback OSS server (osscse-tests): encrypted PutObject
//! and GetObject throughput versus plain ones with the same client, and the peak RSS of the
//! `osscse` CLI process during a 1 GiB streamed upload.
//!
//! ```text
//! cargo run --release -p osscse-benches --bin transfer-report [-- MIB [ROUNDS]]
//! ```
//! MIB (default 256) is the object size of the throughput rounds, ROUNDS (default 5) how many
//! interleaved plain/encrypted rounds make each median. The last line is
//! `put_ratio=… get_ratio=… peak_rss_mib=…` (targets: ratios >= 0.9, peak RSS <= 64 MiB).
#![forbid(unsafe_code)]
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    missing_docs
)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use osscse_core::sign::Credentials;
use osscse_core::wrap::RsaMasterKey;
use osscse_std::blocking::Client;
use osscse_std::blocking::EncryptionClient;
use osscse_std::keys::{Keyring, generate_rsa};
use osscse_std::local::PutOptions;
use osscse_std::{Body, ClientConfig, Endpoint, Request};
use osscse_tests::{Config, Server};

const BUCKET: &str = "bench";

fn client(server: &Server) -> Client {
    let mut cfg = ClientConfig::new(Endpoint::parse(&server.endpoint()).unwrap());
    cfg.region = Some("cn-hangzhou".into());
    Client::new(cfg, Credentials::new("ak", "sk")).unwrap()
}

fn drain(mut r: impl Read) -> u64 {
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0;
    loop {
        match r.read(&mut buf).unwrap() {
            0 => return n,
            k => n += k as u64,
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn gbps(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e9
}

/// Peak resident set of `pid` so far (VmHWM), in KiB.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn osscse_binary() -> PathBuf {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "osscse-std",
            "--bin",
            "osscse",
        ])
        .status()
        .expect("cargo build of the osscse binary");
    assert!(status.success(), "building osscse failed");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("release/osscse")
}

/// Streams 1 GiB through `osscse put` and samples its VmHWM until it exits.
fn peak_rss_mib(server: &Server, dir: &Path, public_pem: &Path) -> f64 {
    let src = dir.join("one-gib.bin");
    let mut f = std::fs::File::create(&src).unwrap();
    let mut block = vec![0u8; 1 << 20];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..1024 {
        for b in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b.copy_from_slice(&x.to_le_bytes()[..b.len()]);
        }
        f.write_all(&block).unwrap();
    }
    drop(f);
    let mut child = Command::new(osscse_binary())
        .args([
            "put",
            src.to_str().unwrap(),
            "oss://bench/one-gib.bin",
            "--quiet",
        ])
        .args(["--public-key", public_pem.to_str().unwrap()])
        .args(["--endpoint", &server.endpoint(), "--region", "cn-hangzhou"])
        .env("OSS_ACCESS_KEY_ID", "ak")
        .env("OSS_ACCESS_KEY_SECRET", "sk")
        .spawn()
        .unwrap();
    let t = Instant::now();
    let mut peak_kib = 0;
    let status = loop {
        if let Some(kib) = vm_hwm_kib(child.id()) {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(status.success(), "osscse put failed: {status}");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "osscse put 1 GiB: {secs:.1} s ({:.2} GB/s), peak RSS {:.1} MiB",
        f64::from(1u32 << 30) / secs / 1e9,
        peak_kib as f64 / 1024.0
    );
    std::fs::remove_file(&src).unwrap();
    peak_kib as f64 / 1024.0
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: usize = args.next().map_or(256, |a| a.parse().expect("MIB"));
    let rounds: usize = args.next().map_or(5, |a| a.parse().expect("ROUNDS"));
    let server = Server::start(Config::new("ak", "sk")).unwrap();
    let dir = tempfile::tempdir().unwrap();

    let pair = generate_rsa(3072).unwrap();
    let public_pem = dir.path().join("public.pem");
    std::fs::write(&public_pem, &pair.public_pem).unwrap();
    let key = RsaMasterKey::from_private_pem(&pair.private_pem).unwrap();
    let plain_client = client(&server);
    let enc = EncryptionClient::new(client(&server), Keyring::new(key));

    let data: Vec<u8> = (0..mib << 20).map(|i| (i * 31 % 251) as u8).collect();
    let (mut put_plain, mut put_enc, mut get_plain, mut get_enc) = (vec![], vec![], vec![], vec![]);
    println!(
        "loopback server {}, {mib} MiB objects, {rounds} interleaved rounds",
        server.endpoint()
    );
    for _ in 0..rounds {
        let t = Instant::now();
        let mut reader = &data[..];
        let req = Request::new("PUT", Some(BUCKET), Some("plain")).body(Body::Once {
            len: data.len() as u64,
            reader: &mut reader,
        });
        plain_client.send(req).unwrap();
        put_plain.push(gbps(data.len(), t.elapsed()));

        let t = Instant::now();
        let mut reader = &data[..];
        enc.put_object(
            BUCKET,
            "encrypted",
            &mut reader,
            data.len() as u64,
            &PutOptions::default(),
        )
        .unwrap();
        put_enc.push(gbps(data.len(), t.elapsed()));

        let t = Instant::now();
        let resp = plain_client
            .send(Request::new("GET", Some(BUCKET), Some("plain")))
            .unwrap();
        assert_eq!(drain(resp.into_reader()), data.len() as u64);
        get_plain.push(gbps(data.len(), t.elapsed()));

        let t = Instant::now();
        let got = enc.get_object(BUCKET, "encrypted", None).unwrap();
        assert_eq!(drain(got.reader), data.len() as u64);
        get_enc.push(gbps(data.len(), t.elapsed()));
    }
    // The encrypted object really is the data, encrypted.
    let mut check = Vec::new();
    enc.get_object(BUCKET, "encrypted", None)
        .unwrap()
        .reader
        .read_to_end(&mut check)
        .unwrap();
    assert!(check == data, "encrypted round trip differs");

    let (pp, pe, gp, ge) = (
        median(put_plain),
        median(put_enc),
        median(get_plain),
        median(get_enc),
    );
    println!(
        "{:<10} {:>10} {:>10} {:>7}",
        "op", "plain GB/s", "enc GB/s", "ratio"
    );
    println!("{:<10} {pp:>10.2} {pe:>10.2} {:>7.2}", "put", pe / pp);
    println!("{:<10} {gp:>10.2} {ge:>10.2} {:>7.2}", "get", ge / gp);
    let rss = peak_rss_mib(&server, dir.path(), &public_pem);
    println!(
        "put_ratio={:.2} get_ratio={:.2} peak_rss_mib={rss:.0}",
        pe / pp,
        ge / gp
    );
}

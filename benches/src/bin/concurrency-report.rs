//! One-run concurrency report through the loopback OSS server (osscse-tests): 2,000 encrypted
//! 4 KiB objects put, then got, with 64 requests in flight, by
//!
//! * the async client (tokio, 64 tasks in flight sharing one client),
//! * the blocking facade (64 threads sharing one client),
//! * the official Python v2 `EncryptionClient` (64 threads),
//!
//! each in its own process (so its peak RSS is its own; the server runs in this process).
//! The osscse clients run ROUNDS (default 5) interleaved times each; the report takes the
//! median objects/s and the largest peak RSS.
//!
//! ```text
//! cargo run --release -p osscse-benches --bin concurrency-report [-- OBJECTS [IN_FLIGHT [ROUNDS]]]
//! ```
//! The last line is `async_ops=… blocking_ops=… python_ops=… ratio_python=… peak_rss_mib=…`
//! (objects/s counting each put and each get; ratio_python = async/python; peak_rss_mib is
//! the async client's). Targets: async >= 10x Python, >= 1.0x blocking, RSS <= 128 MiB.
//! Before the runs it prints the single-thread time of one object's RSA wrap and unwrap (data
//! key and IV): the CPU floor of every put and get.
#![forbid(unsafe_code)]
#![deny(rustdoc::broken_intra_doc_links)]
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    missing_docs
)]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use osscse_core::sign::Credentials;
use osscse_core::wrap;
use osscse_std::keys::{Keyring, RsaKey, SysRng, generate_rsa, load_rsa_key};
use osscse_std::local::PutOptions;
use osscse_std::{ClientConfig, Endpoint};
use osscse_tests::{Config, Server};

const BUCKET: &str = "bench";
const SIZE: usize = 4096;

const PYTHON: &str = r#"
import os, sys, time, resource
from concurrent.futures import ThreadPoolExecutor
import alibabacloud_oss_v2 as oss
endpoint, pem_priv, pem_pub, n, jobs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
cfg = oss.config.load_default()
cfg.credentials_provider = oss.credentials.StaticCredentialsProvider("ak", "sk")
cfg.endpoint = endpoint
cfg.use_path_style = True
cfg.region = "cn-hangzhou"
cipher = oss.crypto.MasterRsaCipher(mat_desc={}, public_key=open(pem_pub).read(), private_key=open(pem_priv).read())
ec = oss.EncryptionClient(oss.Client(cfg), cipher)
def body(i):
    return (i.to_bytes(8, "little") * 512)
def put(i):
    ec.put_object(oss.PutObjectRequest(bucket="bench", key="py/%d" % i, body=body(i)))
def get(i):
    got = ec.get_object(oss.GetObjectRequest(bucket="bench", key="py/%d" % i)).body.read()
    assert got == body(i)
t = time.monotonic()
with ThreadPoolExecutor(jobs) as ex:
    list(ex.map(put, range(n)))
with ThreadPoolExecutor(jobs) as ex:
    list(ex.map(get, range(n)))
dt = time.monotonic() - t
print("ops_per_s=%f rss_kib=%d" % (2 * n / dt, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"#;

fn body(i: usize) -> Vec<u8> {
    (i as u64).to_le_bytes().repeat(SIZE / 8)
}

fn config(endpoint: &str) -> ClientConfig {
    let mut cfg = ClientConfig::new(Endpoint::parse(endpoint).unwrap());
    cfg.region = Some("cn-hangzhou".into());
    cfg.max_idle_per_host = 128;
    cfg
}

fn child_async(endpoint: &str, keys: Keyring, n: usize, jobs: usize) -> f64 {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client =
            osscse_std::Client::new(config(endpoint), Credentials::new("ak", "sk")).unwrap();
        let c = osscse_std::encryption::EncryptionClient::new(client, keys);
        let t = Instant::now();
        // One task per object, at most `jobs` alive: how a tokio service runs requests, so
        // the runtime's workers share the signing, parsing and decryption (futures polled
        // inside one task, as `buffer_unordered` does, all run on that task's thread).
        let mut tasks = tokio::task::JoinSet::new();
        for get in [false, true] {
            for i in 0..n {
                if tasks.len() >= jobs {
                    tasks.join_next().await.unwrap().unwrap();
                }
                let c = c.clone();
                tasks.spawn(async move {
                    let key = format!("a/{i}");
                    if get {
                        let got = c.get_object_bytes(BUCKET, &key, None).await.unwrap();
                        assert_eq!(got, body(i));
                    } else {
                        c.put_source(BUCKET, &key, &body(i), &PutOptions::default())
                            .await
                            .unwrap();
                    }
                });
            }
            // Every put is done before the first get, as with the blocking facade.
            while let Some(done) = tasks.join_next().await {
                done.unwrap();
            }
        }
        (2 * n) as f64 / t.elapsed().as_secs_f64()
    })
}

fn child_blocking(endpoint: &str, keys: Keyring, n: usize, jobs: usize) -> f64 {
    let client =
        osscse_std::blocking::Client::new(config(endpoint), Credentials::new("ak", "sk")).unwrap();
    let c = Arc::new(osscse_std::blocking::EncryptionClient::new(client, keys));
    let t = Instant::now();
    let run = |get: bool| {
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        std::thread::scope(|s| {
            for _ in 0..jobs {
                let (c, next) = (c.clone(), next.clone());
                s.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        if i >= n {
                            return;
                        }
                        let k = format!("b/{i}");
                        if get {
                            assert_eq!(c.get_object_bytes(BUCKET, &k, None).unwrap(), body(i));
                        } else {
                            c.put_source(BUCKET, &k, &body(i), &PutOptions::default())
                                .unwrap();
                        }
                    }
                });
            }
        });
    };
    run(false);
    run(true);
    (2 * n) as f64 / t.elapsed().as_secs_f64()
}

/// The median objects/s and the largest peak RSS of several runs.
fn median_and_peak(runs: &mut [(f64, f64)]) -> (f64, f64) {
    let peak = runs.iter().map(|r| r.1).fold(0.0, f64::max);
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    (runs[runs.len() / 2].0, peak)
}

/// `ops_per_s=… rss_kib=…` of a child's last line.
fn parse(out: &str) -> (f64, f64) {
    let line = out.lines().last().unwrap_or_default();
    let mut ops = 0.0;
    let mut rss = 0.0;
    for kv in line.split_whitespace() {
        if let Some(v) = kv.strip_prefix("ops_per_s=") {
            ops = v.parse().unwrap_or(0.0);
        }
        if let Some(v) = kv.strip_prefix("rss_kib=") {
            rss = v.parse::<f64>().unwrap_or(0.0) / 1024.0;
        }
    }
    (ops, rss)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        let (variant, endpoint, pem) = (&args[2], &args[3], &args[4]);
        let n: usize = args[5].parse().unwrap();
        let jobs: usize = args[6].parse().unwrap();
        let keys = Keyring::new(load_rsa_key(Path::new(pem)).unwrap());
        let ops = if variant == "async" {
            child_async(endpoint, keys, n, jobs)
        } else {
            child_blocking(endpoint, keys, n, jobs)
        };
        println!(
            "ops_per_s={ops:.1} rss_kib={}",
            osscse_benches::rss::self_vm_hwm_kib()
        );
        return;
    }
    let n: usize = args.get(1).and_then(|v| v.parse().ok()).unwrap_or(2000);
    let jobs: usize = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(64);
    let rounds: usize = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(5).max(1);
    let server = Server::start(Config::new("ak", "sk")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pair = generate_rsa(2048).unwrap();
    let private = dir.path().join("private.pem");
    let public = dir.path().join("public.pem");
    std::fs::write(&private, pair.private_pem.as_bytes()).unwrap();
    std::fs::write(&public, &pair.public_pem).unwrap();
    // Where a read's CPU goes: each get unwraps the data key and the IV (two RSA-2048
    // private-key operations), on top of any HTTP work. Timed with the keyring's key (AWS-LC
    // with osscse-std's default feature `aws-lc`) and with the pure-Rust `rsa` crate.
    let samples = 50;
    let per_object = |f: &mut dyn FnMut()| {
        f(); // first use: library initialisation and the key's Montgomery contexts
        let t = Instant::now();
        for _ in 0..samples {
            f();
        }
        t.elapsed().as_secs_f64() * 1000.0 / f64::from(samples)
    };
    let core_key = load_rsa_key(&private).unwrap();
    let host_key = RsaKey::new(core_key.clone());
    let keys = Keyring::new(host_key.clone());
    let seal_ms = per_object(&mut || {
        keys.seal_new().unwrap();
    });
    let (_, envelope) = keys.seal_new().unwrap();
    let unwrap_ms = per_object(&mut || {
        keys.open(&envelope).unwrap();
    });
    let rsa_crate_ms = per_object(&mut || {
        wrap::open(&core_key, &envelope, &mut SysRng).unwrap();
    });
    println!(
        "one object's RSA wrap (key + IV, one thread): {seal_ms:.2} ms, unwrap: {unwrap_ms:.2} ms \
         ({}; the rsa crate: {rsa_crate_ms:.2} ms)",
        host_key.unwrap_backend()
    );
    let me = std::env::current_exe().unwrap();
    let child = |variant: &str| {
        let out = Command::new(&me)
            .args([
                "--child",
                variant,
                &server.endpoint(),
                private.to_str().unwrap(),
                &n.to_string(),
                &jobs.to_string(),
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{variant}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        parse(&String::from_utf8_lossy(&out.stdout))
    };
    // Interleaved rounds, median objects/s and largest RSS of each: one run of each is
    // within a few percent of the other and of itself, which a single sample cannot resolve.
    let (mut async_runs, mut blocking_runs) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        let a = child("async");
        let b = child("blocking");
        println!(
            "round {round}: async {:.0} objects/s ({:.1} MiB), blocking {:.0} objects/s ({:.1} MiB)",
            a.0, a.1, b.0, b.1
        );
        async_runs.push(a);
        blocking_runs.push(b);
    }
    let (async_ops, async_rss) = median_and_peak(&mut async_runs);
    let (blocking_ops, blocking_rss) = median_and_peak(&mut blocking_runs);
    println!(
        "async client:    {async_ops:.0} objects/s, peak RSS {async_rss:.1} MiB (median of {rounds})"
    );
    println!(
        "blocking facade: {blocking_ops:.0} objects/s, peak RSS {blocking_rss:.1} MiB ({jobs} threads, median of {rounds})"
    );
    let (python_ops, python_rss) = match osscse_tests::python::interpreter() {
        Some(py) => {
            let script = dir.path().join("bench.py");
            std::fs::write(&script, PYTHON).unwrap();
            let out = Command::new(py)
                .arg(&script)
                .args([
                    &server.endpoint(),
                    private.to_str().unwrap(),
                    public.to_str().unwrap(),
                    &n.to_string(),
                    &jobs.to_string(),
                ])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "python: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            parse(&String::from_utf8_lossy(&out.stdout))
        }
        None => {
            println!("python: no interpreter with the SDK (set OSSCSE_PYTHON)");
            (0.0, 0.0)
        }
    };
    println!(
        "python v2 SDK:   {python_ops:.0} objects/s, peak RSS {python_rss:.1} MiB ({jobs} threads)"
    );
    let ratio = if python_ops > 0.0 {
        async_ops / python_ops
    } else {
        0.0
    };
    println!(
        "objects={n} size={SIZE} in_flight={jobs} async/blocking={:.2}",
        async_ops / blocking_ops
    );
    println!(
        "async_ops={async_ops:.0} blocking_ops={blocking_ops:.0} python_ops={python_ops:.0} ratio_python={ratio:.2} peak_rss_mib={async_rss:.1}"
    );
}

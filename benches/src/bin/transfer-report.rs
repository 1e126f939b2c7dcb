//! One-run transfer report that measures the CLIENT: wall GB/s and client CPU seconds per GiB
//! of plain and encrypted osscse, and of the official Python v2 `EncryptionClient`, on one
//! 1 GiB file, against the loopback server running in its own process (so its CPU is not
//! counted), plus the peak RSS of the `osscse` CLI streaming that file.
//!
//! ```text
//! OSSCSE_PYTHON=/path/to/venv/bin/python \
//!   cargo run --release -p osscse-benches --bin transfer-report [-- MIB [ROUNDS]]
//! ```
//! MIB (default 1024) is the file size, ROUNDS (default 3) how many interleaved rounds make each
//! median. Operations: single-stream put and get; `upload_file`/`download_file` (encrypted) and
//! the same multipart and ranged transfer done plain, with 4 parts in flight. "Plain" is the
//! same work without encryption, with the same integrity checks: reads of a plain object go
//! through the library's own path (`get_object`, `download_file`: CRC-64 checked), plain parts
//! go out as replayable bodies with their `Content-MD5` (the client's default payload signing,
//! as for encrypted parts), single-stream puts of both are one-shot streams (no digest pass),
//! and neither download syncs the file to disk (`no_fsync`: the disk is not the client). Client CPU is
//! utime + stime of this process from /proc/self/stat (the counters getrusage(RUSAGE_SELF)
//! reports; reading them needs no unsafe FFI), and `resource.getrusage` in the Python child.
//! The server is `osscse-server --etag crc64`: its MD5 ETags would otherwise bound one stream.
//! Last line: `put_ratio=… get_ratio=… cpu_ratio=… vs_python_put=… vs_python_get=…
//! peak_rss_mib=…` (ratios: encrypted/plain, worst of single and 4-part; cpu_ratio the largest
//! encrypted/plain CPU ratio; vs_python: encrypted osscse over the Python SDK, single stream).
//! Targets: ratios ≥ 0.95, cpu_ratio ≤ 1.15, vs_python ≥ 5, peak RSS ≤ 64 MiB.
#![forbid(unsafe_code)]
#![deny(rustdoc::broken_intra_doc_links)]
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    missing_docs
)]

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use osscse_benches::report::{cpu_model, median, release_binary};
use osscse_core::sign::Credentials;
use osscse_core::wrap::RsaMasterKey;
use osscse_std::blocking::{Client, EncryptionClient};
use osscse_std::encryption::{DownloadOptions, UploadOptions};
use osscse_std::keys::{Keyring, generate_rsa};
use osscse_std::local::PutOptions;
use osscse_std::{Body, ClientConfig, Endpoint, Replay, Request};

const BUCKET: &str = "bench";
/// Part and range size of the 4-in-flight transfers.
const PART: u64 = 32 << 20;
const JOBS: usize = 4;
const GIB: f64 = 1_073_741_824.0;

/// The Python v2 SDK side: put then get the same file with `EncryptionClient`, printing
/// `put_wall put_cpu get_wall get_cpu` in seconds (getrusage of the Python process).
const PYTHON: &str = r#"
import resource, sys, time
import alibabacloud_oss_v2 as oss
endpoint, path, pub, priv = sys.argv[1:5]
cfg = oss.config.load_default()
cfg.credentials_provider = oss.credentials.StaticCredentialsProvider("ak", "sk")
cfg.endpoint = endpoint
cfg.use_path_style = True
cfg.region = "cn-hangzhou"
cipher = oss.crypto.MasterRsaCipher(mat_desc={}, public_key=open(pub).read(), private_key=open(priv).read())
ec = oss.EncryptionClient(oss.Client(cfg), cipher)
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t, c = time.time(), cpu()
with open(path, "rb") as f:
    ec.put_object(oss.PutObjectRequest(bucket="bench", key="python", body=f))
pw, pc = time.time() - t, cpu() - c
t, c = time.time(), cpu()
body = ec.get_object(oss.GetObjectRequest(bucket="bench", key="python")).body
n = 0
for chunk in body.iter_bytes(block_size=1 << 20):
    n += len(chunk)
gw, gc = time.time() - t, cpu() - c
print(pw, pc, gw, gc, n)
"#;

/// utime + stime of this process (all threads), seconds.
fn cpu_self() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Wall and CPU seconds of one operation.
#[derive(Debug, Clone, Copy)]
struct Cost {
    wall: f64,
    cpu: f64,
}

fn measure(f: impl FnOnce()) -> Cost {
    let (t, c) = (Instant::now(), cpu_self());
    f();
    Cost {
        wall: t.elapsed().as_secs_f64(),
        cpu: cpu_self() - c,
    }
}

/// The server child process, killed when dropped.
struct ServerProcess {
    child: Child,
    endpoint: String,
}

impl ServerProcess {
    fn start() -> Self {
        let mut child = Command::new(release_binary("osscse-tests", "osscse-server"))
            .args(["--listen", "127.0.0.1:0", "--access-key-id", "ak"])
            .args(["--access-key-secret", "sk", "--etag", "crc64"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let endpoint = line.rsplit(' ').next().unwrap().trim().to_string();
        assert!(endpoint.starts_with("http://"), "server printed {line:?}");
        Self { child, endpoint }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client(endpoint: &str) -> Client {
    let mut cfg = ClientConfig::new(Endpoint::parse(endpoint).unwrap());
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

fn write_source(path: &Path, mib: u64) {
    let mut f = File::create(path).unwrap();
    let mut block = vec![0u8; 1 << 20];
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..mib {
        for b in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b.copy_from_slice(&x.to_le_bytes()[..b.len()]);
        }
        f.write_all(&block).unwrap();
    }
}

fn text_between<'a>(s: &'a str, open: &str, close: &str) -> &'a str {
    s.split(open)
        .nth(1)
        .and_then(|r| r.split(close).next())
        .unwrap()
}

/// A part of a file as a replayable body: the plain client sends its `Content-MD5` (its
/// default payload signing) as the encrypted client does for every part.
struct FileRegion<'a> {
    path: &'a Path,
    offset: u64,
    len: u64,
}

impl Replay for FileRegion<'_> {
    fn len(&self) -> u64 {
        self.len
    }

    fn open(&self) -> std::io::Result<Box<dyn Read + Send + '_>> {
        let mut f = File::open(self.path)?;
        f.seek(SeekFrom::Start(self.offset))?;
        Ok(Box::new(f.take(self.len)))
    }
}

/// Plain multipart upload of `src`: `PART`-sized parts, `JOBS` in flight, each streamed from
/// its own file handle.
fn plain_upload_parallel(c: &Client, src: &Path, key: &str) {
    let len = std::fs::metadata(src).unwrap().len();
    let init = c
        .send(Request::new("POST", Some(BUCKET), Some(key)).query("uploads", ""))
        .unwrap()
        .text(1 << 20)
        .unwrap();
    let id = text_between(&init, "<UploadId>", "</UploadId>").to_string();
    let parts: Vec<u64> = (0..len.div_ceil(PART)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let etags = std::sync::Mutex::new(vec![String::new(); parts.len()]);
    std::thread::scope(|s| {
        for _ in 0..JOBS {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&p) = parts.get(i) else { break };
                    let off = p * PART;
                    let n = PART.min(len - off);
                    let region = FileRegion {
                        path: src,
                        offset: off,
                        len: n,
                    };
                    let number = (p + 1).to_string();
                    let resp = c
                        .send(
                            Request::new("PUT", Some(BUCKET), Some(key))
                                .query("partNumber", &number)
                                .query("uploadId", &id)
                                .body(Body::Replay(&region)),
                        )
                        .unwrap();
                    etags.lock().unwrap()[i] = resp.header("ETag").unwrap().to_string();
                }
            });
        }
    });
    let mut xml = String::from("<CompleteMultipartUpload>");
    for (i, e) in etags.into_inner().unwrap().iter().enumerate() {
        xml.push_str(&format!(
            "<Part><PartNumber>{}</PartNumber><ETag>{e}</ETag></Part>",
            i + 1
        ));
    }
    xml.push_str("</CompleteMultipartUpload>");
    c.send(
        Request::new("POST", Some(BUCKET), Some(key))
            .query("uploadId", &id)
            .body(Body::Bytes(xml.as_bytes())),
    )
    .unwrap();
}

/// Per-operation samples: (plain, encrypted) costs over rounds.
#[derive(Default)]
struct Samples {
    plain: Vec<Cost>,
    enc: Vec<Cost>,
}

impl Samples {
    fn gbps(v: &[Cost], bytes: u64) -> f64 {
        median(v.iter().map(|c| bytes as f64 / c.wall / 1e9).collect())
    }
    fn cpu_per_gib(v: &[Cost], bytes: u64) -> f64 {
        median(v.iter().map(|c| c.cpu / (bytes as f64 / GIB)).collect())
    }
}

/// The Python SDK run: (put wall, put cpu, get wall, get cpu) seconds, or why it was skipped.
fn python(endpoint: &str, src: &Path, dir: &Path, pems: (&str, &str)) -> Result<[f64; 4], String> {
    let py = std::env::var("OSSCSE_PYTHON").map_err(|_| "OSSCSE_PYTHON is not set".to_string())?;
    let (public, private) = (dir.join("py-public.pem"), dir.join("py-private.pem"));
    std::fs::write(&public, pems.0).unwrap();
    std::fs::write(&private, pems.1).unwrap();
    let out = Command::new(py)
        .args(["-c", PYTHON, endpoint])
        .arg(src)
        .arg(&public)
        .arg(&private)
        .output()
        .map_err(|e| format!("cannot run OSSCSE_PYTHON: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Vec<f64> = text
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    match v.as_slice() {
        [pw, pc, gw, gc, n] if *n as u64 == std::fs::metadata(src).unwrap().len() => {
            Ok([*pw, *pc, *gw, *gc])
        }
        _ => Err(format!("unexpected Python output {text:?}")),
    }
}

/// Streams `src` through `osscse put` and samples its VmHWM until it exits.
fn peak_rss_mib(endpoint: &str, src: &Path, public_pem: &Path) -> f64 {
    let mut child = Command::new(release_binary("osscse-std", "osscse"))
        .args([
            "put",
            src.to_str().unwrap(),
            "oss://bench/cli.bin",
            "--quiet",
        ])
        .args(["--public-key", public_pem.to_str().unwrap()])
        .args(["--endpoint", endpoint, "--region", "cn-hangzhou"])
        .env("OSS_ACCESS_KEY_ID", "ak")
        .env("OSS_ACCESS_KEY_SECRET", "sk")
        .spawn()
        .unwrap();
    let (status, peak_kib) =
        osscse_benches::rss::wait_sampling_peak(&mut child, Duration::from_millis(5)).unwrap();
    assert!(status.success(), "osscse put failed: {status}");
    peak_kib as f64 / 1024.0
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mib: u64 = args.next().map_or(1024, |a| a.parse().expect("MIB"));
    let rounds: usize = args.next().map_or(3, |a| a.parse().expect("ROUNDS"));
    println!(
        "cpu: {} ({} logical CPUs)",
        cpu_model(),
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    let server = ServerProcess::start();
    let ep = server.endpoint.as_str();
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("source.bin");
    write_source(&src, mib);
    let len = mib << 20;
    let pair = generate_rsa(2048).unwrap();
    let public_pem = dir.path().join("public.pem");
    std::fs::write(&public_pem, &pair.public_pem).unwrap();
    let key = RsaMasterKey::from_private_pem(&pair.private_pem).unwrap();
    let plain = client(ep);
    plain.send(Request::new("PUT", Some(BUCKET), None)).unwrap();
    let enc = EncryptionClient::new(client(ep), Keyring::new(key));
    // Downloads land in memory (tmpfs) where there is one: the report measures the client, and
    // a disk's page-cache writeback and extent work are the same for plain and encrypted
    // downloads but vary from run to run.
    let dest_dir =
        tempfile::tempdir_in("/dev/shm").unwrap_or_else(|_| tempfile::tempdir().unwrap());
    let dest = dest_dir.path().join("dest.bin");
    println!(
        "server {ep} (osscse-server --etag crc64, own process), {mib} MiB file, {rounds} rounds, downloads into {}",
        dest_dir.path().display()
    );

    let names = ["put", "get", "upload4", "download4"];
    let mut s: [Samples; 4] = Default::default();
    for _ in 0..rounds {
        s[0].plain.push(measure(|| {
            let mut f = File::open(&src).unwrap();
            let req = Request::new("PUT", Some(BUCKET), Some("plain")).body(Body::Once {
                len,
                reader: &mut f,
            });
            plain.send(req).unwrap();
        }));
        s[0].enc.push(measure(|| {
            let mut f = File::open(&src).unwrap();
            enc.put_object(BUCKET, "enc", &mut f, len, &PutOptions::default())
                .unwrap();
        }));
        s[1].plain.push(measure(|| {
            // The library's read of a plain object: the same reader, CRC-64 checked.
            let got = enc.get_object(BUCKET, "plain", None).unwrap();
            assert_eq!(drain(got.reader), len);
        }));
        s[1].enc.push(measure(|| {
            let got = enc.get_object(BUCKET, "enc", None).unwrap();
            assert_eq!(drain(got.reader), len);
        }));
        s[2].plain
            .push(measure(|| plain_upload_parallel(&plain, &src, "plain-mp")));
        let opts = UploadOptions {
            part_size: Some(PART),
            jobs: Some(JOBS),
            ..UploadOptions::default()
        };
        s[2].enc.push(measure(|| {
            enc.upload_file(BUCKET, "enc-mp", &src, &opts, None)
                .unwrap();
        }));
        // No fsync on either side: the report measures the client, not the disk's writeback
        // (the default syncs, which on the report machine takes about as long again).
        let opts = DownloadOptions {
            chunk_size: Some(PART),
            jobs: Some(JOBS),
            no_fsync: true,
        };
        s[3].plain.push(measure(|| {
            assert_eq!(
                enc.download_file(BUCKET, "plain-mp", &dest, &opts, None)
                    .unwrap(),
                len
            );
        }));
        s[3].enc.push(measure(|| {
            assert_eq!(
                enc.download_file(BUCKET, "enc-mp", &dest, &opts, None)
                    .unwrap(),
                len
            );
        }));
    }
    // The encrypted downloads really are the file.
    assert!(std::fs::read(&dest).unwrap() == std::fs::read(&src).unwrap());

    println!(
        "{:<10} {:>10} {:>10} {:>6} {:>12} {:>12} {:>6}",
        "op", "plain GB/s", "enc GB/s", "ratio", "plain cpu/GiB", "enc cpu/GiB", "ratio"
    );
    let (mut put_ratio, mut get_ratio, mut cpu_ratio) = (f64::MAX, f64::MAX, 0f64);
    let mut enc_gbps = [0f64; 4];
    for (i, name) in names.iter().enumerate() {
        let (pg, eg) = (
            Samples::gbps(&s[i].plain, len),
            Samples::gbps(&s[i].enc, len),
        );
        let (pc, ec) = (
            Samples::cpu_per_gib(&s[i].plain, len),
            Samples::cpu_per_gib(&s[i].enc, len),
        );
        enc_gbps[i] = eg;
        println!(
            "{name:<10} {pg:>10.2} {eg:>10.2} {:>6.2} {pc:>12.2} {ec:>12.2} {:>6.2}",
            eg / pg,
            ec / pc
        );
        if i % 2 == 0 {
            put_ratio = put_ratio.min(eg / pg);
        } else {
            get_ratio = get_ratio.min(eg / pg);
        }
        cpu_ratio = cpu_ratio.max(ec / pc);
    }
    let (vs_put, vs_get) = match python(ep, &src, dir.path(), (&pair.public_pem, &pair.private_pem))
    {
        Ok([pw, pc, gw, gc]) => {
            let gib = len as f64 / GIB;
            let (pg, gg) = (len as f64 / pw / 1e9, len as f64 / gw / 1e9);
            println!(
                "python v2 EncryptionClient: put {pg:.3} GB/s {:.2} cpu s/GiB, get {gg:.3} GB/s {:.2} cpu s/GiB",
                pc / gib,
                gc / gib
            );
            (enc_gbps[0] / pg, enc_gbps[1] / gg)
        }
        Err(why) => {
            println!("python v2 EncryptionClient: skipped ({why})");
            (f64::NAN, f64::NAN)
        }
    };
    let rss = peak_rss_mib(ep, &src, &public_pem);
    println!("osscse put {mib} MiB (CLI): peak RSS {rss:.1} MiB");
    println!(
        "put_ratio={put_ratio:.2} get_ratio={get_ratio:.2} cpu_ratio={cpu_ratio:.2} vs_python_put={vs_put:.1} vs_python_get={vs_get:.1} peak_rss_mib={rss:.0}"
    );
}

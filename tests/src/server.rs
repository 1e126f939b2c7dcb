//! The server: listener, connection threads, addressing, authentication and fault knobs.

use std::fs;
use std::io::{self, BufReader};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use osscse_core::sign::Credentials;

use crate::auth::{self, AuthContext};
use crate::body;
use crate::digest::{self, PayloadHashPolicy};
use crate::http::{self, BodyFaults, HttpRequest, HttpResponse, ReadError, ResponseFaults};
use crate::log::LoggedRequest;
use crate::ops::{Object, Store, Target};
use crate::xml::OssError;

/// How to run a server.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The only credentials accepted. With a security token, every request must carry it (STS).
    pub credentials: Credentials,
    /// Largest accepted difference between a request's signing time and the server clock.
    pub max_clock_skew: Duration,
    /// Keep objects in this directory (loaded at start, written on every change) instead of
    /// memory only.
    pub data_dir: Option<PathBuf>,
    /// What a V4 `x-oss-content-sha256` other than `UNSIGNED-PAYLOAD` gets (default: OSS's
    /// refusal). `Content-MD5` is always checked against the body, as OSS does.
    pub payload_hash: PayloadHashPolicy,
    /// How object and part ETags are made (default: MD5, as OSS).
    pub etag: EtagPolicy,
    /// Not OSS: keep only the length, CRC-64 and ETag of each UploadPart body, so that a
    /// multipart upload of any size is received in the memory of one part (CompleteMultipart
    /// still checks the parts and answers the combined CRC-64, but the object then reads back
    /// empty). For upload memory and throughput reports; off by default.
    pub discard_part_bodies: bool,
}

/// How the server forms the ETag of PutObject and UploadPart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EtagPolicy {
    /// As OSS: the upper-case hex MD5 of the bytes (multipart: MD5 of the part MD5s, `-N`).
    /// MD5 runs at well under 1 GB/s on one core and cannot be split, so it bounds how fast
    /// one stream can be received.
    #[default]
    Md5,
    /// Not OSS: 32 hex digits of CRC-64 and length, so a throughput run measures the client
    /// rather than the server's MD5. `Content-MD5` is still checked when a request carries it.
    Crc64,
}

impl Config {
    /// 127.0.0.1, a free port, the given credentials, 15 minutes of skew, memory storage.
    pub fn new(access_key_id: &str, access_key_secret: &str) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            credentials: Credentials::new(access_key_id, access_key_secret),
            max_clock_skew: Duration::from_secs(15 * 60),
            data_dir: None,
            payload_hash: PayloadHashPolicy::default(),
            etag: EtagPolicy::default(),
            discard_part_bodies: false,
        }
    }
}

/// The fault knobs, all off by default. Read at the start of every request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultConfig {
    /// Reset the connection after receiving this many bytes of a request body.
    pub reset_after_body_bytes: Option<u64>,
    /// Answer this many requests (from now on) with [`Self::fail_status`] before serving again.
    pub fail_first: u32,
    /// The status for `fail_first`: 500 (`InternalError`) or 503 (`ServiceUnavailable`).
    pub fail_status: u16,
    /// Pace request and response bodies to this many bytes per second.
    pub throttle_bytes_per_sec: Option<u64>,
    /// Send only this many bytes of each response body (with the full `Content-Length`), then close.
    pub truncate_response_body: Option<u64>,
    /// Send an `x-oss-hash-crc64ecma` that does not match the stored bytes.
    pub wrong_crc: bool,
    /// Answer ranged GETs with the whole object (200), as a server without Range support would.
    pub ignore_range: bool,
}

/// Runtime handle to a server's fault knobs.
#[derive(Debug, Clone, Default)]
pub struct Faults(Arc<Mutex<FaultConfig>>);

impl Faults {
    fn lock(&self) -> MutexGuard<'_, FaultConfig> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replaces every knob.
    pub fn set(&self, config: FaultConfig) {
        *self.lock() = config;
    }

    /// Turns every knob off.
    pub fn clear(&self) {
        self.set(FaultConfig::default());
    }

    /// The current knobs.
    pub fn get(&self) -> FaultConfig {
        self.lock().clone()
    }

    /// Takes one request's snapshot, consuming one of `fail_first`; returns the status to
    /// fail with, if any.
    fn begin_request(&self) -> (FaultConfig, Option<u16>) {
        let mut f = self.lock();
        let fail = if f.fail_first > 0 {
            f.fail_first -= 1;
            Some(if f.fail_status == 0 {
                503
            } else {
                f.fail_status
            })
        } else {
            None
        };
        (f.clone(), fail)
    }
}

struct Shared {
    config: Config,
    store: Mutex<Store>,
    faults: Faults,
    stop: AtomicBool,
    requests: AtomicU64,
    log: Mutex<Vec<LoggedRequest>>,
}

/// A stored object's bytes and metadata (`content-type`, `x-oss-meta-*`, lower-case names).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// The stored (for CSE objects: encrypted) bytes.
    pub data: Vec<u8>,
    /// Stored headers, names lower-case.
    pub meta: Vec<(String, String)>,
}

impl StoredObject {
    /// A stored header's value.
    pub fn meta(&self, name: &str) -> Option<&str> {
        self.meta
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A running loopback OSS-compatible server; stops when dropped.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Server {
    /// Binds `config.listen` and starts serving on a background thread.
    ///
    /// # Errors
    /// The address cannot be bound, or the data directory cannot be read.
    pub fn start(config: Config) -> io::Result<Self> {
        let listener = TcpListener::bind(config.listen)?;
        let addr = listener.local_addr()?;
        let mut store = Store::default();
        if let Some(dir) = &config.data_dir {
            load_dir(dir, &mut store)?;
        }
        let shared = Arc::new(Shared {
            config,
            store: Mutex::new(store),
            faults: Faults::default(),
            stop: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
        });
        let accept = http::accept_loop(
            listener,
            "osscse-server",
            Arc::clone(&shared),
            |s| s.stop.load(Ordering::SeqCst),
            serve,
        )?;
        Ok(Self {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// The address served.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The fault knobs of this server.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// How many requests have been received (including failed and faulted ones).
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }

    /// The requests received so far whose body was read, in arrival order (the most recent
    /// 100 000 at least: older halves are dropped past 200 000).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Forgets the requests logged so far.
    pub fn clear_request_log(&self) {
        self.shared
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// A copy of a stored object, as the server holds it.
    pub fn object(&self, bucket: &str, key: &str) -> Option<StoredObject> {
        let store = self
            .shared
            .store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        store.get(bucket, key).map(|o| StoredObject {
            data: o.data.to_vec(),
            meta: o.meta.clone(),
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// Entries the request log holds before it drops its older half.
const LOG_LIMIT: usize = 200_000;

fn request_id(n: u64) -> String {
    format!("{:08X}{:016X}", now_secs() as u32, n)
}

/// Bucket and key from Host and path: path style for IP and `localhost` hosts, otherwise the
/// first label of the host is the bucket (virtual-hosted style).
fn address(req: &HttpRequest) -> (Option<String>, Option<String>) {
    let host = req.header("host").unwrap_or("");
    let host_name = if host.starts_with('[') {
        host.split(']').next().unwrap_or("").trim_start_matches('[')
    } else {
        host.split(':').next().unwrap_or("")
    };
    let path = req.path.strip_prefix('/').unwrap_or(&req.path);
    let virtual_bucket = match host_name.parse::<IpAddr>() {
        Ok(_) => None,
        Err(_) if host_name == "localhost" || !host_name.contains('.') => None,
        Err(_) => host_name.split('.').next().map(str::to_string),
    };
    let non_empty = |s: String| if s.is_empty() { None } else { Some(s) };
    match virtual_bucket {
        Some(b) => (Some(b), non_empty(http::percent_decode(path))),
        None => match path.split_once('/') {
            Some((b, k)) => (
                non_empty(http::percent_decode(b)),
                non_empty(http::percent_decode(k)),
            ),
            None => (non_empty(http::percent_decode(path)), None),
        },
    }
}

fn error_response(e: &OssError, id: &str, head: bool) -> HttpResponse {
    let mut r = HttpResponse::new(e.status).header("Content-Type", "application/xml");
    if let Some((_, ec)) = e.extra.iter().find(|(tag, _)| *tag == "EC") {
        r = r.header("x-oss-ec", ec.clone());
    }
    r = r.body(e.to_xml(id).into_bytes());
    r.head_only = head;
    r
}

fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let _ = stream.set_nodelay(true);
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut write_half = write_half;
    let mut reader = BufReader::new(stream);
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let mut req = match http::read_head(&mut reader) {
            Ok(r) => r,
            Err(ReadError::Closed | ReadError::Io) => return,
            Err(ReadError::Bad(why)) => return bad_request(&mut write_half, why),
            Err(ReadError::Reset) => return,
        };
        // The knobs are read once a request has arrived, not while a kept-alive connection
        // waits: pooled idle connections must not consume `fail_first`.
        let (faults, fail) = shared.faults.begin_request();
        let body_faults = BodyFaults {
            reset_after: faults.reset_after_body_bytes,
            throttle: faults.throttle_bytes_per_sec,
        };
        let want_md5 = shared.config.etag == EtagPolicy::Md5;
        match body::read_body(&mut reader, &mut req, &body_faults, want_md5) {
            Ok(()) => {}
            Err(ReadError::Closed | ReadError::Io) => return,
            Err(ReadError::Reset) => {
                shared.requests.fetch_add(1, Ordering::SeqCst);
                // Dropping the socket with unread bytes queued sends RST.
                return;
            }
            Err(ReadError::Bad(why)) => return bad_request(&mut write_half, why),
        }
        let n = shared.requests.fetch_add(1, Ordering::SeqCst);
        let (bucket, key) = address(&req);
        let mut log = shared
            .log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // A long-running server (osscse-server) keeps only the most recent requests.
        if log.len() >= LOG_LIMIT {
            log.drain(..LOG_LIMIT / 2);
        }
        log.push(LoggedRequest {
            method: req.method.clone(),
            bucket,
            key,
            query: req.query.clone(),
            headers: req
                .headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
                .collect(),
        });
        drop(log);
        let id = request_id(n);
        let head = req.method == "HEAD";
        let close = req
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let mut resp = match fail {
            Some(status) => {
                let code = if status == 503 {
                    "ServiceUnavailable"
                } else {
                    "InternalError"
                };
                error_response(
                    &OssError::new(status, code, "Injected fault: please retry."),
                    &id,
                    head,
                )
            }
            None => match handle(shared, req, &faults) {
                Ok(r) => r,
                Err(e) => error_response(&e, &id, head),
            },
        };
        resp.set_header("x-oss-request-id", id.clone());
        resp.set_header("Server", "AliyunOSS");
        resp.set_header(
            "Date",
            osscse_core::sign::format_rfc1123(now_secs()).unwrap_or_default(),
        );
        if close {
            resp.set_header("Connection", "close");
        }
        let out_faults = ResponseFaults {
            truncate_at: faults.truncate_response_body.filter(|_| !resp.head_only),
            throttle: faults.throttle_bytes_per_sec,
        };
        match http::write_response(&mut write_half, &resp, &out_faults) {
            Ok(true) if !close => {}
            _ => {
                let _ = write_half.shutdown(Shared::BOTH);
                return;
            }
        }
    }
}

impl Shared {
    const BOTH: Shutdown = Shutdown::Both;
}

/// Answers a malformed request with 400 and closes the connection.
fn bad_request(stream: &mut TcpStream, why: &'static str) {
    let e = OssError::new(400, "InvalidRequest", why);
    let _ = http::write_response(stream, &error_response(&e, "0", false), &no_faults());
    let _ = stream.shutdown(Shared::BOTH);
}

fn no_faults() -> ResponseFaults {
    ResponseFaults {
        truncate_at: None,
        throttle: None,
    }
}

fn handle(
    shared: &Shared,
    mut req: HttpRequest,
    faults: &FaultConfig,
) -> Result<HttpResponse, OssError> {
    let (bucket, key) = address(&req);
    let now = now_secs();
    let ctx = AuthContext {
        credentials: &shared.config.credentials,
        now,
        max_skew: shared.config.max_clock_skew.as_secs(),
        bucket: bucket.as_deref(),
        key: key.as_deref(),
    };
    auth::verify(&req.method, &req.query, &req.headers, &ctx)?;
    // Digests before any operation: a body that fails them is never stored.
    digest::check_content_sha256(&req, shared.config.payload_hash)?;
    digest::check_content_md5(&req)?;
    let target = Target {
        bucket: bucket.as_deref(),
        key: key.as_deref(),
        now,
        etag: shared.config.etag,
        discard_part_bodies: shared.config.discard_part_bodies,
    };
    let mut store = shared
        .store
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if faults.ignore_range {
        req.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("range"));
    }
    let mut resp = store.handle(&mut req, &target)?;
    if let (Some(dir), Some(b), Some(k)) = (&shared.config.data_dir, &bucket, &key)
        && req.method != "GET"
        && req.method != "HEAD"
    {
        save_object(dir, b, k, store.get(b, k))
            .map_err(|e| OssError::new(500, "InternalError", format!("data directory: {e}")))?;
    }
    if faults.wrong_crc
        && let Some(crc) = resp
            .get_header("x-oss-hash-crc64ecma")
            .and_then(|v| v.parse::<u64>().ok())
    {
        resp.set_header("x-oss-hash-crc64ecma", (crc ^ 1).to_string());
    }
    Ok(resp)
}

// ------------------------------------------------------------------ data directory
// Layout: DIR/<bucket>/<hex(key)>.data and .meta (`name: value` lines, then etag/crc/modified).

fn object_paths(dir: &std::path::Path, bucket: &str, key: &str) -> (PathBuf, PathBuf) {
    let base = dir.join(bucket).join(hex::encode(key.as_bytes()));
    (base.with_extension("data"), base.with_extension("meta"))
}

fn save_object(
    dir: &std::path::Path,
    bucket: &str,
    key: &str,
    obj: Option<&Object>,
) -> io::Result<()> {
    let (data, meta) = object_paths(dir, bucket, key);
    match obj {
        None => {
            let _ = fs::remove_file(data);
            let _ = fs::remove_file(meta);
        }
        Some(o) => {
            fs::create_dir_all(dir.join(bucket))?;
            fs::write(&data, o.data.as_slice())?;
            let mut text = format!(
                "etag: {}\ncrc64: {}\nmodified: {}\n",
                o.etag, o.crc64, o.modified
            );
            for (n, v) in &o.meta {
                text.push_str(&format!("{n}: {v}\n"));
            }
            fs::write(meta, text)?;
        }
    }
    Ok(())
}

fn load_dir(dir: &std::path::Path, store: &mut Store) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    for bucket in fs::read_dir(dir)? {
        let bucket = bucket?;
        if !bucket.file_type()?.is_dir() {
            continue;
        }
        let bname = bucket.file_name().to_string_lossy().into_owned();
        for f in fs::read_dir(bucket.path())? {
            let path = f?.path();
            if path.extension().is_none_or(|e| e != "meta") {
                continue;
            }
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let Some(key) = hex::decode(&stem)
                .ok()
                .and_then(|k| String::from_utf8(k).ok())
            else {
                continue;
            };
            let data = fs::read(path.with_extension("data"))?;
            let mut obj = Object {
                data: Arc::new(data),
                meta: Vec::new(),
                etag: String::new(),
                crc64: 0,
                modified: 0,
            };
            for line in fs::read_to_string(&path)?.lines() {
                let Some((n, v)) = line.split_once(": ") else {
                    continue;
                };
                match n {
                    "etag" => obj.etag = v.to_string(),
                    "crc64" => obj.crc64 = v.parse().unwrap_or(0),
                    "modified" => obj.modified = v.parse().unwrap_or(0),
                    _ => obj.meta.push((n.to_string(), v.to_string())),
                }
            }
            store.insert(&bname, &key, obj);
        }
    }
    Ok(())
}

//! A loopback KMS-compatible server: `Encrypt`, `Decrypt` and `GenerateDataKey` of the KMS
//! OpenAPI (RPC style, version 2016-01-20), parameters in the query or a form body, answers in
//! JSON, errors as `{"Code","Message","RequestId","HostId"}` like KMS.
//!
//! Every request's RPC signature is checked with the function given in
//! [`KmsServerConfig::signer`] (pass `osscse_std::kms::sign::signature`: osscse-std depends on
//! this crate, so it is injected rather than linked). The server holds its own CMKs (AES-256,
//! random); a blob is `base64("<key-id><base64(nonce || ciphertext || tag)>")` with
//! AES-256-GCM under the CMK and the `EncryptionContext` text as associated data, so blobs
//! look like real KMS blobs (base64 text whose decoding starts with the key's UUID). Keys can be
//! disabled ("revoked"), blobs recorded from a real KMS can be answered ([`KmsServer::record`]),
//! and [`KmsFaultConfig`] injects 5xx answers and malformed replies.
//!
//! ```no_run
//! use osscse_tests::kms::{KmsServer, KmsServerConfig};
//! fn sign(secret: &str, method: &str, params: &[(&str, &str)]) -> (String, String) {
//!     // osscse_std::kms::sign::{string_to_sign, signature}(...) in a real caller
//!     unimplemented!()
//! }
//! let kms = KmsServer::start(KmsServerConfig::new("ak", "sk", sign))?;
//! let key_id = kms.create_key();
//! println!("KMS at {} with CMK {key_id}", kms.endpoint());
//! # Ok::<(), std::io::Error>(())
//! ```

use std::collections::HashMap;
use std::io::{self, BufReader};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64ct::{Base64, Encoding};
use serde_json::{Value, json};

use crate::http::{self, HttpRequest, HttpResponse, ReadError, ResponseFaults};

/// The RPC signature function: `(secret, method, parameters without Signature)` to
/// `(string to sign, Signature)`. The string to sign is echoed in `SignatureDoesNotMatch`
/// messages as KMS does (the Python SDK reads it from there).
pub type SignFn = fn(&str, &str, &[(&str, &str)]) -> (String, String);

/// How to run a KMS server.
#[derive(Debug, Clone)]
pub struct KmsServerConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The only AccessKey id accepted.
    pub access_key_id: String,
    /// Its secret.
    pub access_key_secret: String,
    /// When set, every request must carry this `SecurityToken` (STS).
    pub security_token: Option<String>,
    /// Computes the expected signature.
    pub signer: SignFn,
}

impl KmsServerConfig {
    /// 127.0.0.1, a free port, the given AccessKey, no STS token.
    pub fn new(access_key_id: &str, access_key_secret: &str, signer: SignFn) -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            access_key_id: access_key_id.to_string(),
            access_key_secret: access_key_secret.to_string(),
            security_token: None,
            signer,
        }
    }
}

/// The fault knobs, all off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KmsFaultConfig {
    /// Answer this many requests (from now on) with `fail_status` before serving again.
    pub fail_first: u32,
    /// The status for `fail_first` (0 means 503).
    pub fail_status: u16,
    /// Answer every request with HTTP 200 and a body that is not JSON.
    pub malformed_reply: bool,
}

struct Cmk {
    key: [u8; 32],
    enabled: bool,
}

#[derive(Default)]
struct State {
    keys: HashMap<String, Cmk>,
    recorded: HashMap<String, String>,
    faults: KmsFaultConfig,
}

struct Shared {
    config: KmsServerConfig,
    state: Mutex<State>,
    stop: AtomicBool,
    requests: AtomicU64,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running loopback KMS server; stops when dropped.
pub struct KmsServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for KmsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl KmsServer {
    /// Binds `config.listen` and serves on background threads.
    ///
    /// # Errors
    /// The address cannot be bound.
    pub fn start(config: KmsServerConfig) -> io::Result<Self> {
        let listener = TcpListener::bind(config.listen)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(State::default()),
            stop: AtomicBool::new(false),
            requests: AtomicU64::new(0),
        });
        let accept = http::accept_loop(
            listener,
            "osscse-kms",
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

    /// Creates an enabled CMK with a random key; returns its id (a UUID).
    ///
    /// # Panics
    /// When the OS random generator fails.
    pub fn create_key(&self) -> String {
        let mut key = [0u8; 32];
        let mut id = [0u8; 16];
        #[allow(clippy::expect_used)]
        {
            getrandom::fill(&mut key).expect("OS random generator");
            getrandom::fill(&mut id).expect("OS random generator");
        }
        let h = hex::encode(id);
        let id = format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        );
        self.shared
            .state()
            .keys
            .insert(id.clone(), Cmk { key, enabled: true });
        id
    }

    /// Enables or disables (revokes) a CMK; `false` when there is no such key.
    pub fn set_key_enabled(&self, key_id: &str, enabled: bool) -> bool {
        match self.shared.state().keys.get_mut(key_id) {
            Some(k) => {
                k.enabled = enabled;
                true
            }
            None => false,
        }
    }

    /// Answers `Decrypt(CiphertextBlob = blob)` with `plaintext`: replays a blob recorded from
    /// the real KMS (e.g. of an SDK fixture) whose plaintext is known.
    pub fn record(&self, blob: &str, plaintext: &str) {
        self.shared
            .state()
            .recorded
            .insert(blob.to_string(), plaintext.to_string());
    }

    /// Replaces the fault knobs.
    pub fn set_faults(&self, faults: KmsFaultConfig) {
        self.shared.state().faults = faults;
    }

    /// How many requests have been received.
    pub fn request_count(&self) -> u64 {
        self.shared.requests.load(Ordering::SeqCst)
    }
}

impl Drop for KmsServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

const NO_RESPONSE_FAULTS: ResponseFaults = ResponseFaults {
    truncate_at: None,
    throttle: None,
};

fn serve(stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(60)));
    let _ = stream.set_nodelay(true);
    let Ok(mut write_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let req = match http::read_request(&mut reader) {
            Ok(r) => r,
            Err(ReadError::Bad(why)) => {
                let resp = error("0", 400, "InvalidRequest", why);
                let _ = http::write_response(&mut write_half, &resp, &NO_RESPONSE_FAULTS);
                let _ = write_half.shutdown(Shutdown::Both);
                return;
            }
            Err(_) => return,
        };
        let n = shared.requests.fetch_add(1, Ordering::SeqCst);
        let request_id = format!("{:08X}-KMS-{n:012X}", std::process::id());
        let close = req
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        let resp = handle(shared, &req, &request_id);
        match http::write_response(&mut write_half, &resp, &NO_RESPONSE_FAULTS) {
            Ok(true) if !close => {}
            _ => {
                let _ = write_half.shutdown(Shutdown::Both);
                return;
            }
        }
    }
}

fn error(request_id: &str, status: u16, code: &str, message: &str) -> HttpResponse {
    let body = json!({
        "RequestId": request_id,
        "HostId": "kms.loopback",
        "Code": code,
        "Message": message,
    });
    HttpResponse::new(status)
        .header("Content-Type", "application/json;charset=utf-8")
        .body(body.to_string().into_bytes())
}

fn ok(request_id: &str, mut body: Value) -> HttpResponse {
    body["RequestId"] = Value::from(request_id);
    HttpResponse::new(200)
        .header("Content-Type", "application/json;charset=utf-8")
        .body(body.to_string().into_bytes())
}

/// Query and form-body parameters (form: `+` is a space).
fn params(req: &HttpRequest) -> Vec<(String, String)> {
    let mut out = req.query.clone();
    let form = req
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if form && let Ok(body) = std::str::from_utf8(&req.body) {
        for p in body.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| http::percent_decode(&s.replace('+', " "));
            out.push((dec(k), dec(v)));
        }
    }
    out
}

fn handle(shared: &Shared, req: &HttpRequest, id: &str) -> HttpResponse {
    let faults = {
        let mut st = shared.state();
        let f = st.faults.clone();
        if st.faults.fail_first > 0 {
            st.faults.fail_first -= 1;
        }
        f
    };
    if faults.fail_first > 0 {
        let status = if faults.fail_status == 0 {
            503
        } else {
            faults.fail_status
        };
        return error(
            id,
            status,
            "ServiceUnavailableTemporary",
            "Injected fault: please retry.",
        );
    }
    if faults.malformed_reply {
        return HttpResponse::new(200)
            .header("Content-Type", "application/json;charset=utf-8")
            .body(b"<html>not a KMS answer".to_vec());
    }
    if req.method != "POST" && req.method != "GET" {
        return error(id, 405, "UnsupportedHTTPMethod", "Use POST or GET.");
    }
    let all = params(req);
    let get = |name: &str| all.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if let Err(resp) = authenticate(shared, req, &all, id) {
        return resp;
    }
    if get("Version") != Some("2016-01-20") {
        return error(
            id,
            400,
            "InvalidVersion",
            "Specified parameter Version is not valid.",
        );
    }
    let context = get("EncryptionContext").unwrap_or("");
    let result = match get("Action").unwrap_or("") {
        "Encrypt" => match (get("KeyId"), get("Plaintext")) {
            (Some(key_id), Some(pt)) => encrypt(shared, key_id, pt, context).map(
                |blob| json!({"CiphertextBlob": blob, "KeyId": key_id, "KeyVersionId": key_id}),
            ),
            _ => Err((
                400,
                "MissingParameter",
                "KeyId and Plaintext are mandatory.",
            )),
        },
        "Decrypt" => match get("CiphertextBlob") {
            Some(blob) => decrypt(shared, blob, context).map(
                |(key_id, pt)| json!({"Plaintext": pt, "KeyId": key_id, "KeyVersionId": key_id}),
            ),
            None => Err((400, "MissingParameter", "CiphertextBlob is mandatory.")),
        },
        "GenerateDataKey" => match get("KeyId") {
            Some(key_id) => generate(
                shared,
                key_id,
                get("KeySpec"),
                get("NumberOfBytes"),
                context,
            ),
            None => Err((400, "MissingParameter", "KeyId is mandatory.")),
        },
        _ => Err((
            400,
            "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method.",
        )),
    };
    match result {
        Ok(body) => ok(id, body),
        Err((status, code, message)) => error(id, status, code, message),
    }
}

type Failure = (u16, &'static str, &'static str);

fn authenticate(
    shared: &Shared,
    req: &HttpRequest,
    all: &[(String, String)],
    id: &str,
) -> Result<(), HttpResponse> {
    let c = &shared.config;
    let get = |name: &str| all.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    for name in [
        "AccessKeyId",
        "Signature",
        "SignatureMethod",
        "SignatureNonce",
        "Timestamp",
        "Action",
    ] {
        if get(name).is_none_or(str::is_empty) {
            return Err(error(
                id,
                400,
                "MissingParameter",
                &format!("{name} is mandatory for this action."),
            ));
        }
    }
    if get("SignatureMethod") != Some("HMAC-SHA1") || get("SignatureVersion") != Some("1.0") {
        return Err(error(
            id,
            400,
            "InvalidParameter",
            "SignatureMethod must be HMAC-SHA1 and SignatureVersion 1.0.",
        ));
    }
    if get("AccessKeyId") != Some(c.access_key_id.as_str()) {
        return Err(error(
            id,
            404,
            "InvalidAccessKeyId.NotFound",
            "Specified access key is not found.",
        ));
    }
    let signed: Vec<(&str, &str)> = all
        .iter()
        .filter(|(k, _)| k != "Signature")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (string_to_sign, expected) = (c.signer)(&c.access_key_secret, &req.method, &signed);
    let given = get("Signature").unwrap_or("");
    if subtle_eq(expected.as_bytes(), given.as_bytes()) != 1 {
        // KMS echoes its string to sign (no secret in it); the signature is never printed.
        let message = format!(
            "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
        );
        return Err(error(id, 400, "SignatureDoesNotMatch", &message));
    }
    if let Some(token) = &c.security_token
        && get("SecurityToken") != Some(token.as_str())
    {
        return Err(error(
            id,
            400,
            "InvalidSecurityToken.MismatchWithAccessKey",
            "The security token does not match the AccessKey.",
        ));
    }
    Ok(())
}

/// Equality without early exit.
fn subtle_eq(a: &[u8], b: &[u8]) -> u8 {
    if a.len() != b.len() {
        return 0;
    }
    u8::from(a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0)
}

fn usable_key(st: &State, key_id: &str) -> Result<[u8; 32], Failure> {
    match st.keys.get(key_id) {
        None => Err((
            404,
            "Forbidden.KeyNotFound",
            "The specified Key is not found.",
        )),
        Some(k) if !k.enabled => Err((
            400,
            "Rejected.Disabled",
            "The request was rejected because the key state is Disabled.",
        )),
        Some(k) => Ok(k.key),
    }
}

fn encrypt(
    shared: &Shared,
    key_id: &str,
    plaintext: &str,
    context: &str,
) -> Result<String, Failure> {
    let key = usable_key(&shared.state(), key_id)?;
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut nonce)
        .map_err(|_| (500, "InternalFailure", "Random generator failed."))?;
    let cipher =
        Aes256Gcm::new_from_slice(&key).map_err(|_| (500, "InternalFailure", "Bad key."))?;
    let ct = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext.as_bytes(),
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| (500, "InternalFailure", "Encryption failed."))?;
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&ct);
    let inner = format!("{key_id}{}", Base64::encode_string(&sealed));
    Ok(Base64::encode_string(inner.as_bytes()))
}

fn decrypt(shared: &Shared, blob: &str, context: &str) -> Result<(String, String), Failure> {
    const BAD: Failure = (
        400,
        "Rejected.InvalidCiphertext",
        "The CiphertextBlob is invalid.",
    );
    let st = shared.state();
    let inner = Base64::decode_vec(blob).map_err(|_| BAD)?;
    let inner = String::from_utf8(inner).map_err(|_| BAD)?;
    let key_id = inner.get(..36).ok_or(BAD)?;
    if let Some(pt) = st.recorded.get(blob) {
        // A blob of the real KMS: its key is not here, only its recorded plaintext.
        return Ok((key_id.to_string(), pt.clone()));
    }
    let key = usable_key(&st, key_id)?;
    drop(st);
    let sealed = Base64::decode_vec(&inner[36..]).map_err(|_| BAD)?;
    if sealed.len() < 12 + 16 {
        return Err(BAD);
    }
    let cipher = Aes256Gcm::new_from_slice(&key).map_err(|_| BAD)?;
    let pt = cipher
        .decrypt(
            Nonce::from_slice(&sealed[..12]),
            Payload {
                msg: &sealed[12..],
                aad: context.as_bytes(),
            },
        )
        .map_err(|_| BAD)?;
    let pt = String::from_utf8(pt).map_err(|_| BAD)?;
    Ok((key_id.to_string(), pt))
}

fn generate(
    shared: &Shared,
    key_id: &str,
    spec: Option<&str>,
    number: Option<&str>,
    context: &str,
) -> Result<Value, Failure> {
    let from_spec = match spec.unwrap_or("AES_256") {
        "AES_256" => 32,
        "AES_128" => 16,
        _ => {
            return Err((
                400,
                "InvalidParameter",
                "KeySpec must be AES_256 or AES_128.",
            ));
        }
    };
    let n = match number.filter(|s| !s.is_empty()) {
        None => from_spec,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if (1..=1024).contains(&n) => n,
            _ => return Err((400, "InvalidParameter", "NumberOfBytes must be 1 to 1024.")),
        },
    };
    let mut key = vec![0u8; n];
    getrandom::fill(&mut key).map_err(|_| (500, "InternalFailure", "Random generator failed."))?;
    let plaintext = Base64::encode_string(&key);
    let blob = encrypt(shared, key_id, &plaintext, context)?;
    Ok(
        json!({"CiphertextBlob": blob, "Plaintext": plaintext, "KeyId": key_id, "KeyVersionId": key_id}),
    )
}

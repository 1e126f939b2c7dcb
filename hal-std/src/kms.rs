//! Alibaba Cloud KMS: a blocking client for the KMS OpenAPI (RPC style, version 2016-01-20) and
//! [`KmsMasterKey`], the `KMS/ALICLOUD` master key (FORMAT.md §4.2).
//!
//! * [`KmsClient`]: `Encrypt`, `Decrypt` and `GenerateDataKey`, signed with the RPC signature
//!   ([`sign`]), with an STS token, a region endpoint (`kms.<region>.aliyuncs.com`) or an
//!   explicit one, timeouts, and retries of 5xx answers and connection failures.
//! * [`KmsMasterKey`]: wraps with `Encrypt(Plaintext = base64(key or IV))` and writes the Go
//!   v1/Java header encoding (the header value is the `CiphertextBlob` string) or, on request,
//!   the oss2 one (base64 of the `CiphertextBlob` string); reads both.
//! * [`open_legacy`]: the legacy oss2 2.5 – 2.7 KMS envelope.
//!
//! ```no_run
//! use osscse_core::sign::Credentials;
//! use osscse_std::kms::{KmsClient, KmsConfig, KmsMasterKey};
//! let client = KmsClient::new(
//!     KmsConfig::for_region("cn-hangzhou")?,
//!     Credentials::new("AK", "SK"),
//! )?;
//! let key = KmsMasterKey::new(client, "key-id");
//! # Ok::<(), osscse_std::kms::KmsError>(())
//! ```

mod error;
pub mod sign;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64ct::{Base64, Encoding};
use osscse_core::content::ContentMaterial;
use osscse_core::envelope::{LegacyEnvelope, LegacyWrapAlg, Matdesc, WrapAlg};
use osscse_core::error::WrapError;
use osscse_core::sign::Credentials;
use osscse_core::wrap::{CryptoSource, MasterKey, legacy_counter};
use serde_json::Value;
use zeroize::Zeroizing;

use crate::retry::{Attempts, RetryPolicy};
use crate::transport::{
    HttpRequest, HttpService, RequestBody, ReqwestService, TransportConfig, TransportError,
};

pub use error::KmsError;

/// The KMS OpenAPI version spoken.
pub const API_VERSION: &str = "2016-01-20";

/// Largest KMS answer read (KMS answers are small JSON documents).
const MAX_REPLY: u64 = 1 << 20;

/// Where and how patiently to call KMS.
#[derive(Debug, Clone)]
pub struct KmsConfig {
    /// Base URL, e.g. `https://kms.cn-hangzhou.aliyuncs.com` or `http://127.0.0.1:9100`.
    pub endpoint: String,
    /// The region sent as `RegionId`, when known.
    pub region: Option<String>,
    /// Retry policy for 5xx answers and connection failures.
    pub retry: RetryPolicy,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Longest wait for any single read or write.
    pub io_timeout: Duration,
}

impl KmsConfig {
    /// The public endpoint of `region`: `https://kms.<region>.aliyuncs.com`.
    ///
    /// # Errors
    /// [`KmsError::Config`] when `region` is empty or not a region name.
    pub fn for_region(region: &str) -> Result<Self, KmsError> {
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(KmsError::Config(format!(
                "{region:?} is not a KMS region name: use one like cn-hangzhou"
            )));
        }
        let mut c = Self::with_endpoint(&format!("https://kms.{region}.aliyuncs.com"))?;
        c.region = Some(region.to_string());
        Ok(c)
    }

    /// An explicit endpoint URL (`http://` or `https://`, no path), e.g. a VPC endpoint or a
    /// loopback test server.
    ///
    /// # Errors
    /// [`KmsError::Config`] when the URL has another scheme or no host.
    pub fn with_endpoint(endpoint: &str) -> Result<Self, KmsError> {
        let rest = endpoint
            .strip_prefix("https://")
            .or_else(|| endpoint.strip_prefix("http://"))
            .ok_or_else(|| {
                KmsError::Config(format!(
                    "KMS endpoint {endpoint:?} must start with https:// or http://"
                ))
            })?;
        let host = rest.trim_end_matches('/');
        if host.is_empty() || host.contains(['/', '?', '#', ' ']) {
            return Err(KmsError::Config(format!(
                "KMS endpoint {endpoint:?} must be a scheme and a host[:port] only"
            )));
        }
        Ok(Self {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            region: None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(30),
        })
    }

    /// The configuration for CLI-style options: an explicit `endpoint` wins (with `region` sent
    /// as `RegionId` when given), else the public endpoint of `region`.
    ///
    /// # Errors
    /// [`KmsError::Config`] when neither is given, or either is malformed.
    pub fn from_options(region: Option<&str>, endpoint: Option<&str>) -> Result<Self, KmsError> {
        let region = region.filter(|r| !r.is_empty());
        match (endpoint.filter(|e| !e.is_empty()), region) {
            (Some(e), r) => Ok(Self::with_endpoint(e)?.region(r.unwrap_or_default())),
            (None, Some(r)) => Self::for_region(r),
            (None, None) => Err(KmsError::Config(
                "KMS needs --kms-region (e.g. cn-hangzhou) or --kms-endpoint".into(),
            )),
        }
    }

    /// Sets the region sent as `RegionId`.
    pub fn region(mut self, region: &str) -> Self {
        self.region = Some(region.to_string()).filter(|r| !r.is_empty());
        self
    }
}

/// The answer to `Encrypt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encrypted {
    /// The ciphertext blob (base64 text, opaque).
    pub ciphertext_blob: String,
    /// The CMK that encrypted.
    pub key_id: String,
}

/// The answer to `Decrypt`.
#[derive(Debug)]
pub struct Decrypted {
    /// The `Plaintext` field as sent to `Encrypt` (base64 of the bytes, for osscse and the SDKs).
    pub plaintext: Zeroizing<String>,
    /// The CMK that decrypted.
    pub key_id: String,
}

/// The answer to `GenerateDataKey`.
#[derive(Debug)]
pub struct DataKey {
    /// The data key (base64-decoded `Plaintext`).
    pub plaintext: Zeroizing<Vec<u8>>,
    /// The data key encrypted under the CMK.
    pub ciphertext_blob: String,
    /// The CMK.
    pub key_id: String,
}

/// A KMS client; clones share one connection pool. Its calls block (the master-key trait
/// is synchronous): they run on a small runtime of their own, so they may be made from any
/// thread, inside an async runtime too.
#[derive(Clone)]
pub struct KmsClient {
    service: Arc<dyn HttpService>,
    config: KmsConfig,
    credentials: Credentials,
}

impl std::fmt::Debug for KmsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KmsClient")
            .field("endpoint", &self.config.endpoint)
            .field("region", &self.config.region)
            .field("access_key_id", &self.credentials.access_key_id())
            .finish_non_exhaustive()
    }
}

impl KmsClient {
    /// A client for `config` signing with `credentials` (with an STS token when they carry one).
    ///
    /// # Errors
    /// [`KmsError::Config`] when the credentials are empty.
    pub fn new(config: KmsConfig, credentials: Credentials) -> Result<Self, KmsError> {
        if credentials.access_key_id().is_empty() || credentials.access_key_secret().is_empty() {
            return Err(KmsError::Config(
                "KMS needs an AccessKey: set OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET".into(),
            ));
        }
        let transport = TransportConfig {
            connect_timeout: config.connect_timeout,
            io_timeout: config.io_timeout,
            max_idle_per_host: 4,
        };
        let service = kms_runtime()
            .map(|rt| {
                let _guard = rt.enter();
                ReqwestService::new(
                    &transport,
                    concat!("osscse/", env!("CARGO_PKG_VERSION"), " kms"),
                )
            })?
            .map_err(|e| KmsError::Config(format!("setting up HTTP: {e}")))?;
        Ok(Self {
            service: Arc::new(service),
            config,
            credentials,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &KmsConfig {
        &self.config
    }

    /// `Encrypt(KeyId, Plaintext[, EncryptionContext])`.
    ///
    /// # Errors
    /// See [`KmsError`].
    pub fn encrypt(
        &self,
        key_id: &str,
        plaintext: &str,
        context: Option<&str>,
    ) -> Result<Encrypted, KmsError> {
        let mut p = vec![("KeyId", key_id), ("Plaintext", plaintext)];
        push_context(&mut p, context);
        let reply = self.call("Encrypt", &p)?;
        Ok(Encrypted {
            ciphertext_blob: field(&reply, "Encrypt", "CiphertextBlob")?,
            key_id: field(&reply, "Encrypt", "KeyId")?,
        })
    }

    /// `Decrypt(CiphertextBlob[, EncryptionContext])`.
    ///
    /// # Errors
    /// See [`KmsError`].
    pub fn decrypt(&self, blob: &str, context: Option<&str>) -> Result<Decrypted, KmsError> {
        let mut p = vec![("CiphertextBlob", blob)];
        push_context(&mut p, context);
        let reply = self.call("Decrypt", &p)?;
        Ok(Decrypted {
            plaintext: Zeroizing::new(field(&reply, "Decrypt", "Plaintext")?),
            key_id: field(&reply, "Decrypt", "KeyId")?,
        })
    }

    /// `GenerateDataKey(KeyId, KeySpec, NumberOfBytes[, EncryptionContext])`.
    ///
    /// # Errors
    /// See [`KmsError`]; [`KmsError::Malformed`] when the `Plaintext` is not base64.
    pub fn generate_data_key(
        &self,
        key_id: &str,
        key_spec: &str,
        number_of_bytes: u32,
        context: Option<&str>,
    ) -> Result<DataKey, KmsError> {
        let n = number_of_bytes.to_string();
        let mut p = vec![
            ("KeyId", key_id),
            ("KeySpec", key_spec),
            ("NumberOfBytes", &n),
        ];
        push_context(&mut p, context);
        let reply = self.call("GenerateDataKey", &p)?;
        let text = Zeroizing::new(field(&reply, "GenerateDataKey", "Plaintext")?);
        let plaintext =
            Zeroizing::new(Base64::decode_vec(&text).map_err(|_| KmsError::Malformed {
                action: "GenerateDataKey",
                status: 200,
                what: "Plaintext is not base64".into(),
            })?);
        Ok(DataKey {
            plaintext,
            ciphertext_blob: field(&reply, "GenerateDataKey", "CiphertextBlob")?,
            key_id: field(&reply, "GenerateDataKey", "KeyId")?,
        })
    }

    /// Signs and sends one action, retrying per the policy; returns the JSON object answered.
    fn call(&self, action: &'static str, params: &[(&str, &str)]) -> Result<Reply, KmsError> {
        let rt = kms_runtime()?;
        let (tx, rx) = std::sync::mpsc::channel();
        let this = self.clone();
        let params: Vec<(String, Zeroizing<String>)> = params
            .iter()
            .map(|(n, v)| ((*n).to_owned(), Zeroizing::new((*v).to_owned())))
            .collect();
        rt.spawn(async move {
            let p: Vec<(&str, &str)> = params
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let _ = tx.send(this.call_async(action, &p).await);
        });
        rx.recv()
            .map_err(|_| KmsError::Config("the KMS runtime stopped".into()))?
    }

    async fn call_async(
        &self,
        action: &'static str,
        params: &[(&str, &str)],
    ) -> Result<Reply, KmsError> {
        let mut attempts = Attempts::new(self.config.retry);
        loop {
            attempts.begin();
            // The form may carry a data key (Encrypt's Plaintext): wiped when dropped.
            let body = Zeroizing::new(self.signed_form(action, params)?);
            let request = HttpRequest {
                method: http::Method::POST,
                url: format!("{}/", self.config.endpoint),
                headers: vec![
                    (
                        "content-type".into(),
                        "application/x-www-form-urlencoded".into(),
                    ),
                    ("accept".into(), "application/json".into()),
                    ("content-length".into(), body.len().to_string()),
                ],
                // Wiped when the transport drops its last reference.
                body: RequestBody::Full(bytes::Bytes::from_owner(Zeroizing::new(
                    body.as_bytes().to_vec(),
                ))),
            };
            let outcome = match self.service.call(request).await {
                Ok(resp) => {
                    let status = resp.status;
                    match crate::client::read_limited_raw(resp.body, MAX_REPLY).await {
                        Ok(bytes) => Ok((status, bytes)),
                        Err(e) => Err(e),
                    }
                }
                Err(e) => Err(e),
            };
            let (status, text) = match outcome {
                Ok((status, bytes)) => {
                    let bytes = Zeroizing::new(bytes);
                    (
                        status,
                        Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned()),
                    )
                }
                Err(e) => {
                    if e.kind().retryable() && attempts.backoff(None).await {
                        continue;
                    }
                    return Err(self.transport(action, attempts.made(), e));
                }
            };
            if (200..300).contains(&status) {
                return match serde_json::from_str::<Value>(&text) {
                    Ok(v @ Value::Object(_)) => Ok(Reply(v)),
                    _ => Err(KmsError::Malformed {
                        action,
                        status,
                        what: "the answer is not a JSON object".into(),
                    }),
                };
            }
            if RetryPolicy::retryable_status(status) && attempts.backoff(None).await {
                continue;
            }
            return Err(KmsError::service(action, status, attempts.made(), &text));
        }
    }

    fn transport(&self, action: &'static str, attempts: u32, source: TransportError) -> KmsError {
        KmsError::Transport {
            action,
            endpoint: self.config.endpoint.clone(),
            attempts,
            source: Box::new(source),
        }
    }

    /// The form body of one attempt: the action's parameters, the common parameters and the
    /// signature over all of them.
    fn signed_form(&self, action: &str, params: &[(&str, &str)]) -> Result<String, KmsError> {
        let timestamp = timestamp()?;
        let nonce = nonce()?;
        let mut all: Vec<(&str, &str)> = vec![
            ("Action", action),
            ("Version", API_VERSION),
            ("Format", "JSON"),
            ("AccessKeyId", self.credentials.access_key_id()),
            ("SignatureMethod", sign::SIGNATURE_METHOD),
            ("SignatureVersion", sign::SIGNATURE_VERSION),
            ("SignatureNonce", &nonce),
            ("Timestamp", &timestamp),
        ];
        if let Some(region) = &self.config.region {
            all.push(("RegionId", region));
        }
        if let Some(token) = self.credentials.security_token() {
            all.push(("SecurityToken", token));
        }
        all.extend_from_slice(params);
        let signature = sign::signature(
            self.credentials.access_key_secret(),
            "POST",
            all.iter().copied(),
        );
        all.push(("Signature", &signature));
        Ok(sign::form(all.iter().copied()))
    }
}

fn push_context<'a>(p: &mut Vec<(&'a str, &'a str)>, context: Option<&'a str>) {
    if let Some(c) = context.filter(|c| !c.is_empty()) {
        p.push(("EncryptionContext", c));
    }
}

/// A parsed KMS answer; every string in it (data keys among them) is wiped on drop.
struct Reply(Value);

impl Drop for Reply {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

/// Overwrites every string of a JSON value with zeros.
fn wipe(v: &mut Value) {
    match v {
        Value::String(s) => zeroize::Zeroize::zeroize(s),
        Value::Array(a) => a.iter_mut().for_each(wipe),
        Value::Object(o) => o.values_mut().for_each(wipe),
        _ => {}
    }
}

fn field(reply: &Reply, action: &'static str, name: &str) -> Result<String, KmsError> {
    reply
        .0
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| KmsError::Malformed {
            action,
            status: 200,
            what: format!("no string field {name}"),
        })
}

/// The runtime KMS calls run on (two threads, started on first use).
fn kms_runtime() -> Result<&'static tokio::runtime::Runtime, KmsError> {
    static RT: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("osscse-kms")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
    })
    .as_ref()
    .map_err(|e| KmsError::Config(format!("starting the KMS runtime: {e}")))
}

/// The RPC `Timestamp`: UTC, `YYYY-MM-DDThh:mm:ssZ`.
fn timestamp() -> Result<String, KmsError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| KmsError::Config("the system clock is before 1970: set it".into()))?
        .as_secs();
    let basic = osscse_core::sign::format_iso8601_basic(now)
        .map_err(|e| KmsError::Config(format!("the system clock: {e}")))?;
    // 20060102T150405Z -> 2006-01-02T15:04:05Z
    let b = basic.as_bytes();
    if b.len() != 16 {
        return Err(KmsError::Config("the system clock is out of range".into()));
    }
    Ok(format!(
        "{}-{}-{}T{}:{}:{}Z",
        &basic[0..4],
        &basic[4..6],
        &basic[6..8],
        &basic[9..11],
        &basic[11..13],
        &basic[13..15]
    ))
}

/// A fresh `SignatureNonce` (128 random bits, hex).
fn nonce() -> Result<String, KmsError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|_| KmsError::Core(osscse_core::Error::Rng))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// How [`KmsMasterKey`] writes the key and start headers (reading accepts both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HeaderEncoding {
    /// Go v1 / Java: the header value is the `CiphertextBlob` string itself.
    #[default]
    GoJava,
    /// oss2 >= 2.8 (`AliKMSProvider`): the header value is base64 of the `CiphertextBlob` string.
    Oss2,
}

/// A KMS customer master key (`KMS/ALICLOUD`) as an osscse master key.
#[derive(Debug, Clone)]
pub struct KmsMasterKey {
    client: KmsClient,
    key_id: String,
    matdesc: Option<Matdesc>,
    context: Option<String>,
    encoding: HeaderEncoding,
}

impl KmsMasterKey {
    /// The CMK `key_id` (a key ID, ARN or alias) reached through `client`; no matdesc, Go/Java
    /// header encoding, no encryption context.
    pub fn new(client: KmsClient, key_id: &str) -> Self {
        Self {
            client,
            key_id: key_id.to_string(),
            matdesc: None,
            context: None,
            encoding: HeaderEncoding::GoJava,
        }
    }

    /// Names the key with `matdesc` (written into new envelopes, used to pick it on read).
    pub fn with_matdesc(mut self, matdesc: Matdesc) -> Self {
        self.matdesc = Some(matdesc);
        self
    }

    /// Sets the raw `EncryptionContext` JSON sent with every call (it must match on decrypt).
    pub fn with_encryption_context(mut self, context: &str) -> Self {
        self.context = Some(context.to_string()).filter(|c| !c.is_empty());
        self
    }

    /// oss2's context `{"x-passphrase":"<passphrase>"}`, byte for byte as oss2 builds it
    /// (plain concatenation, no JSON escaping); an empty passphrase means no context.
    pub fn with_passphrase(self, passphrase: &str) -> Self {
        if passphrase.is_empty() {
            return self;
        }
        let context = format!("{{\"x-passphrase\":\"{passphrase}\"}}");
        self.with_encryption_context(&context)
    }

    /// Chooses the header encoding written.
    pub fn with_encoding(mut self, encoding: HeaderEncoding) -> Self {
        self.encoding = encoding;
        self
    }

    /// The CMK id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The client.
    pub fn client(&self) -> &KmsClient {
        &self.client
    }

    /// The `CiphertextBlob` to send for stored (base64-decoded header) bytes: oss2 stores the
    /// blob text itself (valid base64 text), Go/Java the decoded blob (which holds a `-` from
    /// the key UUID and so is never valid base64).
    fn blob_for(wrapped: &[u8]) -> String {
        match std::str::from_utf8(wrapped) {
            Ok(text) if !text.is_empty() && Base64::decode_vec(text).is_ok() => text.to_string(),
            _ => Base64::encode_string(wrapped),
        }
    }
}

impl MasterKey for KmsMasterKey {
    type Error = KmsError;

    fn wrap_alg(&self) -> WrapAlg {
        WrapAlg::Kms
    }

    fn matdesc(&self) -> Option<&Matdesc> {
        self.matdesc.as_ref()
    }

    fn wrap(&self, _rng: &mut dyn CryptoSource, plaintext: &[u8]) -> Result<Vec<u8>, KmsError> {
        let text = Zeroizing::new(Base64::encode_string(plaintext));
        let out = self
            .client
            .encrypt(&self.key_id, &text, self.context.as_deref())?;
        match self.encoding {
            HeaderEncoding::Oss2 => Ok(out.ciphertext_blob.into_bytes()),
            HeaderEncoding::GoJava => {
                Base64::decode_vec(&out.ciphertext_blob).map_err(|_| KmsError::Malformed {
                    action: "Encrypt",
                    status: 200,
                    what: "CiphertextBlob is not base64".into(),
                })
            }
        }
    }

    fn unwrap(
        &self,
        _rng: &mut dyn CryptoSource,
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        let blob = Self::blob_for(wrapped);
        let out = self.client.decrypt(&blob, self.context.as_deref())?;
        decode_plaintext(&out.plaintext)
    }
}

fn decode_plaintext(text: &str) -> Result<Zeroizing<Vec<u8>>, KmsError> {
    Base64::decode_vec(text)
        .map(Zeroizing::new)
        .map_err(|_| KmsError::Malformed {
            action: "Decrypt",
            status: 200,
            what: "Plaintext is not base64 (the object was not written by an OSS SDK)".into(),
        })
}

/// Opens a legacy oss2 2.5 – 2.7 KMS envelope: the key header is the blob of
/// `base64(raw key)`, the start header the blob of the ASCII decimal initial counter, both
/// stored as the blob text itself. `context` is the `EncryptionContext` the writer used (oss2:
/// `{"x-passphrase":...}` or none).
///
/// # Errors
/// [`WrapError::AlgorithmMismatch`] for an RSA legacy envelope, the client's errors, and
/// [`osscse_core::Error`]s for a key that is not 32 bytes or a counter that is not a number.
pub fn open_legacy(
    client: &KmsClient,
    envelope: &LegacyEnvelope,
    context: Option<&str>,
) -> Result<ContentMaterial, KmsError> {
    if envelope.wrap_alg != LegacyWrapAlg::Kms {
        return Err(osscse_core::Error::from(WrapError::AlgorithmMismatch).into());
    }
    let key_blob = Base64::encode_string(&envelope.wrapped_key);
    let start_blob = Base64::encode_string(&envelope.wrapped_start);
    let key = decode_plaintext(&client.decrypt(&key_blob, context)?.plaintext)?;
    let start = client.decrypt(&start_blob, context)?;
    let counter = legacy_counter(start.plaintext.as_bytes())?;
    Ok(ContentMaterial::from_slices(&key, &counter).map_err(osscse_core::Error::from)?)
}

/// An RSA, a KMS or a symmetric master key, so that one keyring can hold all three and pick by
/// wrap-alg and matdesc ([`osscse_core::wrap::select`] over `&[&AnyMasterKey]`).
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum AnyMasterKey {
    /// `RSA/NONE/PKCS1Padding`.
    Rsa(osscse_core::wrap::RsaMasterKey),
    /// `KMS/ALICLOUD`.
    Kms(KmsMasterKey),
    /// `AES/GCM/NoPadding`: a symmetric AES-256 CMK (docs/symmetric.md).
    AesGcm(osscse_core::wrap::AesGcmMasterKey),
}

impl From<osscse_core::wrap::AesGcmMasterKey> for AnyMasterKey {
    fn from(k: osscse_core::wrap::AesGcmMasterKey) -> Self {
        Self::AesGcm(k)
    }
}

impl From<osscse_core::wrap::RsaMasterKey> for AnyMasterKey {
    fn from(k: osscse_core::wrap::RsaMasterKey) -> Self {
        Self::Rsa(k)
    }
}

impl From<KmsMasterKey> for AnyMasterKey {
    fn from(k: KmsMasterKey) -> Self {
        Self::Kms(k)
    }
}

impl AnyMasterKey {
    /// Opens a legacy oss2 envelope with this key (RSA-OAEP or KMS, whichever it is; a
    /// symmetric key never opens one).
    ///
    /// # Errors
    /// [`WrapError::AlgorithmMismatch`] when the envelope uses the other algorithm, and the
    /// key's own errors.
    pub fn open_legacy(
        &self,
        envelope: &LegacyEnvelope,
        rng: &mut dyn CryptoSource,
    ) -> Result<ContentMaterial, KmsError> {
        match self {
            Self::Rsa(k) => Ok(k.open_legacy(envelope, rng)?),
            Self::Kms(k) => open_legacy(&k.client, envelope, k.context.as_deref()),
            Self::AesGcm(_) => Err(osscse_core::Error::from(WrapError::AlgorithmMismatch).into()),
        }
    }
}

impl MasterKey for AnyMasterKey {
    type Error = KmsError;

    fn wrap_alg(&self) -> WrapAlg {
        match self {
            Self::Rsa(k) => k.wrap_alg(),
            Self::Kms(k) => k.wrap_alg(),
            Self::AesGcm(k) => k.wrap_alg(),
        }
    }

    fn matdesc(&self) -> Option<&Matdesc> {
        match self {
            Self::Rsa(k) => k.matdesc(),
            Self::Kms(k) => MasterKey::matdesc(k),
            Self::AesGcm(k) => k.matdesc(),
        }
    }

    fn wrap(&self, rng: &mut dyn CryptoSource, plaintext: &[u8]) -> Result<Vec<u8>, KmsError> {
        match self {
            Self::Rsa(k) => Ok(k.wrap(rng, plaintext)?),
            Self::Kms(k) => k.wrap(rng, plaintext),
            Self::AesGcm(k) => Ok(k.wrap(rng, plaintext)?),
        }
    }

    fn unwrap(
        &self,
        rng: &mut dyn CryptoSource,
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, KmsError> {
        match self {
            Self::Rsa(k) => Ok(k.unwrap(rng, wrapped)?),
            Self::Kms(k) => k.unwrap(rng, wrapped),
            Self::AesGcm(k) => Ok(k.unwrap(rng, wrapped)?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Defect 8: main kept the reply text, the parsed JSON and the Encrypt form (all holding
    /// data keys) in freed memory; the JSON of a reply is now wiped string by string.
    #[test]
    #[allow(clippy::unwrap_used)]
    fn reply_strings_are_wiped() {
        let mut v: Value =
            serde_json::from_str(r#"{"Plaintext":"c2VjcmV0","L":[{"K":"aGk="}],"N":3}"#).unwrap();
        wipe(&mut v);
        assert_eq!(v["Plaintext"], "");
        assert_eq!(v["L"][0]["K"], "");
        assert_eq!(v["N"], 3);
    }
}

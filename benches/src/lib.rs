//! osscse-benches: shared helpers of the criterion benches and the report binaries.
//!
//! [`implementations`] lists every AES-256-CTR implementation the benches compare: the osscse
//! engine (runtime-dispatched, and each backend this CPU has), RustCrypto
//! `ctr::Ctr128BE<aes::Aes256>`, the `openssl` crate (system libcrypto) and `aws-lc-rs`.
#![forbid(unsafe_code)]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod report;
pub mod rss;

use aws_lc_rs::cipher::{
    AES_256, EncryptingKey, EncryptionContext, StreamingEncryptingKey, UnboundCipherKey,
};
use cipher::{KeyIvInit, StreamCipher};
use openssl::cipher::Cipher;
use openssl::cipher_ctx::CipherCtx;
use osscse_core::engine::{Backend, Engine, Keystream};

/// Benchmark key (any value works; fixed so runs are comparable).
pub const KEY: [u8; 32] = [0x42; 32];
/// Benchmark counter block (IV).
pub const IV: [u8; 16] = [0x24; 16];

/// One AES-256-CTR implementation, streaming: each call continues the keystream.
pub trait CtrImpl {
    /// Short name used in tables and criterion ids.
    fn name(&self) -> String;
    /// XORs the keystream into `buf`.
    fn in_place(&mut self, buf: &mut [u8]);
    /// Writes `input` XOR keystream into `output` (same length).
    fn out_of_place(&mut self, input: &[u8], output: &mut [u8]);
}

/// The osscse engine ([`Keystream`]) on one backend.
#[derive(Debug)]
pub struct OsscseEngine {
    keystream: Keystream,
    label: String,
}

impl OsscseEngine {
    /// The engine as `Keystream::new` picks it (runtime detection).
    pub fn detected() -> Self {
        let keystream = Keystream::new(&KEY, &IV);
        let label = format!("engine ({})", keystream.backend().name());
        Self { keystream, label }
    }

    /// The engine forced onto `backend`, if this CPU has it.
    pub fn with_backend(backend: Backend) -> Option<Self> {
        let engine = Engine::with_backend(&KEY, backend)?;
        Some(Self {
            keystream: Keystream::with_cipher(engine, &IV),
            label: format!("engine-{}", backend.name()),
        })
    }
}

impl CtrImpl for OsscseEngine {
    fn name(&self) -> String {
        self.label.clone()
    }
    fn in_place(&mut self, buf: &mut [u8]) {
        self.keystream.apply(buf);
    }
    fn out_of_place(&mut self, input: &[u8], output: &mut [u8]) {
        if self.keystream.apply_to(input, output).is_err() {
            panic!("benchmark buffers differ in length");
        }
    }
}

/// RustCrypto `ctr::Ctr128BE<aes::Aes256>`.
#[derive(Debug)]
pub struct RustCryptoCtr(ctr::Ctr128BE<aes::Aes256>);

impl RustCryptoCtr {
    /// Keyed with [`KEY`] / [`IV`].
    pub fn new() -> Self {
        Self(ctr::Ctr128BE::new(&KEY.into(), &IV.into()))
    }
}

impl Default for RustCryptoCtr {
    fn default() -> Self {
        Self::new()
    }
}

impl CtrImpl for RustCryptoCtr {
    fn name(&self) -> String {
        "ctr+aes".into()
    }
    fn in_place(&mut self, buf: &mut [u8]) {
        self.0.apply_keystream(buf);
    }
    fn out_of_place(&mut self, input: &[u8], output: &mut [u8]) {
        self.0.apply_keystream_b2b(input, output);
    }
}

/// The `openssl` crate: one `EVP_CIPHER_CTX` with `aes-256-ctr`.
pub struct Openssl(CipherCtx);

impl core::fmt::Debug for Openssl {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Openssl { .. }")
    }
}

impl Openssl {
    /// Keyed with [`KEY`] / [`IV`].
    ///
    /// # Panics
    /// When libcrypto cannot set up AES-256-CTR.
    pub fn new() -> Self {
        let mut ctx = CipherCtx::new().expect("EVP_CIPHER_CTX_new");
        ctx.encrypt_init(Some(Cipher::aes_256_ctr()), Some(&KEY), Some(&IV))
            .expect("EVP_EncryptInit_ex aes-256-ctr");
        Self(ctx)
    }
}

impl Default for Openssl {
    fn default() -> Self {
        Self::new()
    }
}

impl CtrImpl for Openssl {
    fn name(&self) -> String {
        "openssl".into()
    }
    fn in_place(&mut self, buf: &mut [u8]) {
        let len = buf.len();
        self.0
            .cipher_update_inplace(buf, len)
            .expect("EVP_CipherUpdate");
    }
    fn out_of_place(&mut self, input: &[u8], output: &mut [u8]) {
        self.0
            .cipher_update(input, Some(output))
            .expect("EVP_CipherUpdate");
    }
}

/// `aws-lc-rs`: in place through `EncryptingKey::ctr` + `less_safe_encrypt` (key schedule
/// reused, IV set per call, as PERFORMANCE.md measured it); out of place through
/// `StreamingEncryptingKey::ctr` + `less_safe_update`.
pub struct AwsLc {
    key: EncryptingKey,
    stream: StreamingEncryptingKey,
}

impl core::fmt::Debug for AwsLc {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("AwsLc { .. }")
    }
}

impl AwsLc {
    /// Keyed with [`KEY`] / [`IV`].
    ///
    /// # Panics
    /// When aws-lc cannot set up AES-256-CTR.
    pub fn new() -> Self {
        let unbound = || UnboundCipherKey::new(&AES_256, &KEY).expect("AES-256 key");
        Self {
            key: EncryptingKey::ctr(unbound()).expect("EncryptingKey::ctr"),
            stream: StreamingEncryptingKey::less_safe_ctr(
                unbound(),
                EncryptionContext::Iv128(IV.into()),
            )
            .expect("StreamingEncryptingKey::ctr"),
        }
    }
}

impl Default for AwsLc {
    fn default() -> Self {
        Self::new()
    }
}

impl CtrImpl for AwsLc {
    fn name(&self) -> String {
        "aws-lc-rs".into()
    }
    fn in_place(&mut self, buf: &mut [u8]) {
        self.key
            .less_safe_encrypt(buf, EncryptionContext::Iv128(IV.into()))
            .expect("aws-lc CTR encrypt");
    }
    fn out_of_place(&mut self, input: &[u8], output: &mut [u8]) {
        self.stream
            .less_safe_update(input, output)
            .expect("aws-lc CTR update");
    }
}

/// The engine (detected backend), `ctr`+`aes`, OpenSSL and aws-lc-rs, in that order.
pub fn implementations() -> Vec<Box<dyn CtrImpl>> {
    vec![
        Box::new(OsscseEngine::detected()),
        Box::new(RustCryptoCtr::new()),
        Box::new(Openssl::new()),
        Box::new(AwsLc::new()),
    ]
}

/// The engine on every backend this CPU has, fastest first.
pub fn engine_backends() -> Vec<Box<dyn CtrImpl>> {
    Backend::ALL
        .into_iter()
        .filter_map(OsscseEngine::with_backend)
        .map(|e| -> Box<dyn CtrImpl> { Box::new(e) })
        .collect()
}

/// Every implementation, fresh: [`implementations`] then [`engine_backends`].
pub fn everything() -> Vec<Box<dyn CtrImpl>> {
    implementations()
        .into_iter()
        .chain(engine_backends())
        .collect()
}

/// Checks every implementation against `ctr` over consecutive calls of several lengths, in
/// place and out of place (fresh instances); returns the names of those that differ.
pub fn mismatches() -> Vec<String> {
    let lengths = [16 * 1024, 1 << 20, 4096, 16];
    let total: usize = lengths.iter().sum();
    let plain: Vec<u8> = (0..total).map(|i| (i * 7 + 3) as u8).collect();
    let mut expected = plain.clone();
    chunked(&mut RustCryptoCtr::new(), &lengths, &mut expected);
    let mut bad = Vec::new();
    for (mut a, mut b) in everything().into_iter().zip(everything()) {
        let mut in_place = plain.clone();
        if a.name() == "aws-lc-rs" {
            // Its in-place path restarts at the IV on every call: one call over everything.
            a.in_place(&mut in_place);
        } else {
            chunked(a.as_mut(), &lengths, &mut in_place);
        }
        let mut out = vec![0u8; total];
        let mut at = 0;
        for len in lengths {
            b.out_of_place(&plain[at..at + len], &mut out[at..at + len]);
            at += len;
        }
        if in_place != expected || out != expected {
            bad.push(a.name());
        }
    }
    bad
}

fn chunked(imp: &mut dyn CtrImpl, lengths: &[usize], buf: &mut [u8]) {
    let mut at = 0;
    for len in lengths {
        imp.in_place(&mut buf[at..at + len]);
        at += len;
    }
}

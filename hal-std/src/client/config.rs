//! Where requests go and how: the endpoint, the client configuration and the request URL.
//! URLs come from osscse-core's one builder ([`osscse_core::url`], shared with the device
//! HAL): virtual-hosted or path style, bucket and key percent-encoding, the host-label check.

use std::time::Duration;

use osscse_core::url::{self as core_url, Addressing};

use crate::error::{Error, Result};
use crate::retry::RetryPolicy;
/// Request signature version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignVersion {
    /// `OSS4-HMAC-SHA256` (needs a region); the default.
    #[default]
    V4,
    /// HMAC-SHA1 `OSS AK:signature`.
    V1,
}

/// How uploads commit to their body.
///
/// A PUT signs its headers, not its body (`x-oss-content-sha256: UNSIGNED-PAYLOAD`; OSS refuses
/// a real payload SHA-256), and the CSE format is AES-CTR without authentication: without a
/// body digest, anyone on the network path could flip ciphertext bits that decrypt to flipped
/// plaintext nobody notices. OSS checks `Content-MD5` (400 `InvalidDigest`, nothing stored),
/// and both V1 and V4 sign it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PayloadSigning {
    /// `Content-MD5` of the bytes sent (the ciphertext), computed in a first pass over
    /// replayable bodies (buffers, files: every PutObject from bytes or a
    /// [`PlainSource`](crate::encryption::PlainSource), every UploadPart, CompleteMultipartUpload)
    /// and signed with the request. Streams that cannot be read twice go without. The default.
    #[default]
    ContentMd5,
    /// **No body digest: anyone on the network path can rewrite the body undetected** (over
    /// plain HTTP, or TLS that terminates at a proxy you do not control). Saves the first
    /// read and encryption pass over each replayable body. For callers whose transport already
    /// guarantees integrity end to end.
    UnsignedPayloadAlterableInTransit,
}

/// Where OSS is: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `true` for https.
    pub https: bool,
    /// Host name or IP address (IPv6 without brackets).
    pub host: String,
    /// Explicit port.
    pub port: Option<u16>,
}

impl Endpoint {
    /// Parses `https://oss-cn-hangzhou.aliyuncs.com`, `http://127.0.0.1:9000`,
    /// `http://[::1]:8080` or a bare host (which means https).
    ///
    /// # Errors
    /// [`Error::Config`] for another scheme, an empty or bad host, a bad port, or a path, query
    /// or user info.
    pub fn parse(text: &str) -> Result<Self> {
        let e = core_url::Endpoint::parse(text)
            .map_err(|e| Error::Config(format!("{e} (got {:?})", text.trim())))?;
        Ok(Self {
            https: e.https,
            host: e.host.to_owned(),
            port: e.port,
        })
    }

    /// The same endpoint as osscse-core's URL builder sees it.
    fn borrowed(&self) -> core_url::Endpoint<'_> {
        core_url::Endpoint {
            https: self.https,
            host: &self.host,
            port: self.port,
        }
    }

    /// Whether the host is an IP address or `localhost` (virtual-hosted style cannot work).
    pub fn is_ip_or_localhost(&self) -> bool {
        self.borrowed().is_ip_or_localhost()
    }

    /// The region id an `oss-<region>[-internal].aliyuncs.com` host names, if any.
    pub fn region_from_host(&self) -> Option<String> {
        self.borrowed().region_from_host().map(str::to_owned)
    }
}

/// Everything a [`Client`](crate::Client) needs besides credentials.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Where OSS is.
    pub endpoint: Endpoint,
    /// Region id for V4 signing (`cn-hangzhou`); derived from an `oss-<region>` endpoint if unset.
    pub region: Option<String>,
    /// Path-style URLs (`endpoint/bucket/key`) instead of virtual-hosted (`bucket.endpoint/key`).
    /// Always used for IP and `localhost` endpoints.
    pub path_style: bool,
    /// Signature version.
    pub sign_version: SignVersion,
    /// Retry policy.
    pub retry: RetryPolicy,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Longest wait for any single read or write on the socket.
    pub io_timeout: Duration,
    /// Idle connections kept per host (connection reuse; also the useful parallelism).
    pub max_idle_per_host: usize,
    /// How uploads commit to their body ([`PayloadSigning::ContentMd5`] by default).
    pub payload_signing: PayloadSigning,
}

impl ClientConfig {
    /// A configuration with defaults for `endpoint`.
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            region: None,
            path_style: false,
            sign_version: SignVersion::V4,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(60),
            max_idle_per_host: 16,
            payload_signing: PayloadSigning::ContentMd5,
        }
    }

    /// The region used for V4 signing.
    pub fn effective_region(&self) -> Option<String> {
        self.region
            .clone()
            .filter(|r| !r.is_empty())
            .or_else(|| self.endpoint.region_from_host())
    }

    /// The URL of a resource: `bucket`/`key` may be absent for service and bucket operations;
    /// `query` holds decoded pairs. Path style when [`Self::path_style`] is set or the endpoint
    /// is an IP address or `localhost`.
    ///
    /// # Errors
    /// [`Error::Config`] for a bucket name that cannot be a host label in virtual-hosted style.
    pub fn url(
        &self,
        bucket: Option<&str>,
        key: Option<&str>,
        query: &[(&str, &str)],
    ) -> Result<String> {
        let addressing = if self.path_style {
            Addressing::PathStyle
        } else {
            Addressing::VirtualHosted
        };
        self.endpoint
            .borrowed()
            .url(addressing, bucket, key, query)
            .map_err(|e| match bucket {
                Some(b) => Error::Config(format!("bucket {b:?}: {e} (--path-style)")),
                None => Error::Config(e.to_string()),
            })
    }
}

//! Where requests go: the endpoint, the client configuration and the one URL builder
//! (virtual-hosted or path style). Kept apart so it can be swapped for a shared builder.

use std::net::IpAddr;
use std::time::Duration;

use osscse_core::sign::{encode_query, uri_encode};

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
    /// Parses `https://oss-cn-hangzhou.aliyuncs.com`, `http://127.0.0.1:9000` or a bare host
    /// (which means https).
    ///
    /// # Errors
    /// [`Error::Config`] for another scheme, an empty host, a bad port or a path.
    pub fn parse(text: &str) -> Result<Self> {
        let t = text.trim();
        let (https, rest) = if let Some(r) = t.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = t.strip_prefix("http://") {
            (false, r)
        } else if t.contains("://") {
            return Err(Error::Config(format!(
                "endpoint {t:?}: only http:// and https:// are supported"
            )));
        } else {
            (true, t)
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) || rest.is_empty() {
            return Err(Error::Config(format!(
                "endpoint {t:?}: give only scheme, host and port, e.g. https://oss-cn-hangzhou.aliyuncs.com"
            )));
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| Error::Config(format!("endpoint {t:?}: unclosed IPv6 bracket")))?;
            (h.to_owned(), after.strip_prefix(':'))
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (rest.to_owned(), None),
            }
        };
        let port = match port {
            Some(p) => Some(
                p.parse::<u16>()
                    .map_err(|_| Error::Config(format!("endpoint {t:?}: bad port {p:?}")))?,
            ),
            None => None,
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:_".contains(&b))
        {
            return Err(Error::Config(format!("endpoint {t:?}: bad host name")));
        }
        Ok(Self { https, host, port })
    }

    /// Whether the host is an IP address or `localhost` (virtual-hosted style cannot work).
    pub fn is_ip_or_localhost(&self) -> bool {
        self.host.parse::<IpAddr>().is_ok() || self.host.eq_ignore_ascii_case("localhost")
    }

    /// The region id an `oss-<region>[-internal].aliyuncs.com` host names, if any.
    pub fn region_from_host(&self) -> Option<String> {
        let first = self.host.split('.').next()?;
        let r = first.strip_prefix("oss-")?;
        let r = r.strip_suffix("-internal").unwrap_or(r);
        (!r.is_empty() && self.host.ends_with(".aliyuncs.com")).then(|| r.to_owned())
    }

    pub(crate) fn authority(&self, host: &str) -> String {
        let h = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        match self.port {
            Some(p) => format!("{h}:{p}"),
            None => h,
        }
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
        }
    }

    /// The region used for V4 signing.
    pub fn effective_region(&self) -> Option<String> {
        self.region
            .clone()
            .filter(|r| !r.is_empty())
            .or_else(|| self.endpoint.region_from_host())
    }

    pub(crate) fn uses_path_style(&self) -> bool {
        self.path_style || self.endpoint.is_ip_or_localhost()
    }

    /// The URL of a resource: `bucket`/`key` may be absent for service and bucket operations;
    /// `query` holds decoded pairs.
    ///
    /// # Errors
    /// [`Error::Config`] for a bucket name that cannot be a host label in virtual-hosted style.
    pub fn url(
        &self,
        bucket: Option<&str>,
        key: Option<&str>,
        query: &[(&str, &str)],
    ) -> Result<String> {
        let scheme = if self.endpoint.https { "https" } else { "http" };
        let mut path = String::from("/");
        let authority = match bucket {
            Some(b) if !self.uses_path_style() => {
                if b.is_empty()
                    || !b
                        .bytes()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                {
                    return Err(Error::Config(format!(
                        "bucket {b:?} cannot be used in a virtual-hosted URL; use --path-style"
                    )));
                }
                self.endpoint
                    .authority(&format!("{b}.{}", self.endpoint.host))
            }
            Some(b) => {
                path.push_str(&uri_encode(b, false));
                path.push('/');
                self.endpoint.authority(&self.endpoint.host)
            }
            None => self.endpoint.authority(&self.endpoint.host),
        };
        if let Some(k) = key {
            path.push_str(&uri_encode(k, true));
        }
        let mut url = format!("{scheme}://{authority}{path}");
        if !query.is_empty() {
            url.push('?');
            url.push_str(&encode_query(query.iter().copied()));
        }
        Ok(url)
    }
}

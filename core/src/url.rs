//! OSS request URLs, built one way for every HAL.
//!
//! * [`Endpoint::parse`] takes `https://oss-cn-hangzhou.aliyuncs.com`, `http://127.0.0.1:9000`,
//!   `http://[::1]:8080` or a bare host (which means https), and rejects paths, queries, user
//!   info and other schemes.
//! * [`Endpoint::url`] builds `scheme://[bucket.]host[:port]/[bucket/]key[?query]`:
//!   virtual-hosted (the OSS default) puts the bucket in the host and requires it to be a DNS
//!   label ([`is_host_label`]); path style puts it, percent-encoded, in the path. IP and
//!   `localhost` endpoints always use path style (a bucket cannot be a label of an address).
//! * Keys are percent-encoded as OSS signs them ([`crate::sign::uri_encode`], `/` kept), bucket
//!   names in paths with `/` encoded, query names and values with
//!   [`crate::sign::encode_query`].

use alloc::format;
use alloc::string::String;
use core::fmt;
use core::net::IpAddr;

use crate::sign::{encode_query, uri_encode};

/// How bucket and key appear in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Addressing {
    /// `scheme://host/bucket/key` (IP endpoints, local servers, bucket names with dots).
    PathStyle,
    /// `scheme://bucket.host/key` (the OSS default).
    VirtualHosted,
}

/// Why an endpoint or URL was refused.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlError {
    /// A scheme other than `http://` or `https://`.
    UnsupportedScheme,
    /// The endpoint has a path, query, fragment or user info: give only scheme, host and port.
    NotAnAuthority,
    /// The host is empty or has characters a host name cannot have.
    BadHost,
    /// The port is not a number in 0..=65535.
    BadPort,
    /// An IPv6 address whose `[` is not closed.
    UnclosedBracket,
    /// The bucket cannot be a host label (virtual-hosted style): use path style, or fix the name.
    BucketNotHostLabel,
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnsupportedScheme => "endpoint: only http:// and https:// are supported",
            Self::NotAnAuthority => {
                "endpoint: give only scheme, host and port, e.g. https://oss-cn-hangzhou.aliyuncs.com"
            }
            Self::BadHost => "endpoint: bad host name",
            Self::BadPort => "endpoint: bad port",
            Self::UnclosedBracket => "endpoint: unclosed IPv6 bracket",
            Self::BucketNotHostLabel => {
                "bucket name cannot be used in a virtual-hosted URL (lower-case letters, digits and inner hyphens, at most 63): use path style"
            }
        })
    }
}

impl core::error::Error for UrlError {}

/// Where OSS is: scheme, host and port, borrowed from the endpoint text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint<'a> {
    /// `true` for https.
    pub https: bool,
    /// Host name or IP address (IPv6 without brackets).
    pub host: &'a str,
    /// Explicit port, if any.
    pub port: Option<u16>,
}

impl<'a> Endpoint<'a> {
    /// Parses `https://host[:port]`, `http://host[:port]` or a bare `host[:port]` (https), with
    /// an optional trailing `/`; IPv6 addresses in brackets.
    ///
    /// # Errors
    /// [`UrlError::UnsupportedScheme`], [`UrlError::NotAnAuthority`], [`UrlError::BadHost`],
    /// [`UrlError::BadPort`], [`UrlError::UnclosedBracket`].
    pub fn parse(text: &'a str) -> Result<Self, UrlError> {
        let t = text.trim();
        let (https, rest) = if let Some(r) = t.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = t.strip_prefix("http://") {
            (false, r)
        } else if t.contains("://") {
            return Err(UrlError::UnsupportedScheme);
        } else {
            (true, t)
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() {
            return Err(UrlError::BadHost);
        }
        if rest.contains(['/', '?', '#', '@']) {
            return Err(UrlError::NotAnAuthority);
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or(UrlError::UnclosedBracket)?;
            let port = match after {
                "" => None,
                a => Some(a.strip_prefix(':').ok_or(UrlError::BadPort)?),
            };
            if h.parse::<core::net::Ipv6Addr>().is_err() {
                return Err(UrlError::BadHost);
            }
            (h, port)
        } else {
            match rest.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        let port = match port {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                Some(p.parse::<u16>().map_err(|_| UrlError::BadPort)?)
            }
            Some(_) => return Err(UrlError::BadPort),
            None => None,
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:_".contains(&b))
        {
            return Err(UrlError::BadHost);
        }
        Ok(Self { https, host, port })
    }

    /// `"https"` or `"http"`.
    pub fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }

    /// Whether the host is an IP address or `localhost` (virtual-hosted style cannot work).
    pub fn is_ip_or_localhost(&self) -> bool {
        self.host.parse::<IpAddr>().is_ok() || self.host.eq_ignore_ascii_case("localhost")
    }

    /// The style actually used for `requested`: path style for IP and `localhost` endpoints.
    pub fn effective_addressing(&self, requested: Addressing) -> Addressing {
        if self.is_ip_or_localhost() {
            Addressing::PathStyle
        } else {
            requested
        }
    }

    /// The region id an `oss-<region>[-internal].aliyuncs.com` host names, if any.
    pub fn region_from_host(&self) -> Option<&'a str> {
        let first = self.host.split('.').next()?;
        let r = first.strip_prefix("oss-")?;
        let r = r.strip_suffix("-internal").unwrap_or(r);
        (!r.is_empty() && self.host.ends_with(".aliyuncs.com")).then_some(r)
    }

    /// The port requests go to: the explicit one, else 443 (https) or 80 (http).
    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(if self.https { 443 } else { 80 })
    }

    /// The host name requests go to (without brackets or port): `bucket.host` in effective
    /// virtual-hosted style, else the endpoint host. This is the `Host` header, and the name a
    /// TLS server certificate must match.
    ///
    /// # Errors
    /// [`UrlError::BucketNotHostLabel`] as for [`Endpoint::url`].
    pub fn request_host(
        &self,
        addressing: Addressing,
        bucket: Option<&str>,
    ) -> Result<String, UrlError> {
        match (bucket, self.effective_addressing(addressing)) {
            (Some(b), Addressing::VirtualHosted) => {
                if !is_host_label(b) {
                    return Err(UrlError::BucketNotHostLabel);
                }
                Ok(format!("{b}.{}", self.host))
            }
            _ => Ok(String::from(self.host)),
        }
    }

    /// The request path and query: `/[bucket/]key[?query]`, the bucket (path style only) and
    /// the key percent-encoded.
    pub fn request_path(
        &self,
        addressing: Addressing,
        bucket: Option<&str>,
        key: Option<&str>,
        query: &[(&str, &str)],
    ) -> String {
        let mut path = String::from("/");
        if let (Some(b), Addressing::PathStyle) = (bucket, self.effective_addressing(addressing)) {
            path.push_str(&uri_encode(b, false));
            path.push('/');
        }
        if let Some(k) = key {
            path.push_str(&uri_encode(k, true));
        }
        if !query.is_empty() {
            path.push('?');
            path.push_str(&encode_query(query.iter().copied()));
        }
        path
    }

    /// The URL of a resource. `bucket` and `key` may be absent (service and bucket
    /// operations); `query` holds decoded pairs, written in the given order.
    ///
    /// # Errors
    /// [`UrlError::BucketNotHostLabel`] for a bucket that cannot be a host label when the
    /// effective style is virtual-hosted.
    pub fn url(
        &self,
        addressing: Addressing,
        bucket: Option<&str>,
        key: Option<&str>,
        query: &[(&str, &str)],
    ) -> Result<String, UrlError> {
        let host = self.request_host(addressing, bucket)?;
        let mut url = format!("{}://", self.scheme());
        if host.contains(':') {
            url.push('[');
            url.push_str(&host);
            url.push(']');
        } else {
            url.push_str(&host);
        }
        if let Some(p) = self.port {
            url.push_str(&format!(":{p}"));
        }
        url.push_str(&self.request_path(addressing, bucket, key, query));
        Ok(url)
    }
}

/// Whether `bucket` can be the first label of a host name: 1 to 63 lower-case ASCII letters,
/// digits and hyphens, not starting or ending with a hyphen. (OSS bucket names are 3 to 63 such
/// characters; anything else must go path style.)
pub fn is_host_label(bucket: &str) -> bool {
    let b = bucket.as_bytes();
    (1..=63).contains(&b.len())
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && b.first() != Some(&b'-')
        && b.last() != Some(&b'-')
}

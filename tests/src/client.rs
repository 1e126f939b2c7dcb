//! A tiny signing HTTP/1.1 client over `std::net::TcpStream`, for tests that need to see
//! exactly what the server sends (faults, status codes, error bodies). Signs with
//! `osscse_core::sign`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use osscse_core::sign::{self, Credentials, Request, encode_query, uri_encode, v1, v4};

/// How to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// V4 `Authorization` header.
    V4Header,
    /// V4 presigned query (valid for the given seconds).
    V4Query(u64),
    /// V1 `Authorization` header.
    V1Header,
    /// V1 presigned query (valid for the given seconds).
    V1Query(u64),
    /// No signature at all.
    None,
}

/// A received response.
#[derive(Debug, Clone)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Headers, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body bytes received (fewer than `Content-Length` if the connection closed early).
    pub body: Vec<u8>,
    /// The announced `Content-Length`.
    pub content_length: Option<u64>,
}

impl Response {
    /// The first value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A client for one server address.
#[derive(Debug, Clone)]
pub struct Client {
    /// Server address.
    pub addr: SocketAddr,
    /// Credentials to sign with.
    pub credentials: Credentials,
    /// Signature form.
    pub signing: Signing,
    /// Seconds added to the local clock when signing (to test skew).
    pub clock_offset: i64,
}

/// One request to send.
#[derive(Debug, Clone, Default)]
pub struct Call<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Bucket (path style).
    pub bucket: Option<&'a str>,
    /// Object key.
    pub key: Option<&'a str>,
    /// Decoded query parameters.
    pub query: Vec<(&'a str, &'a str)>,
    /// Extra headers.
    pub headers: Vec<(&'a str, &'a str)>,
    /// Body.
    pub body: &'a [u8],
    /// With [`Signing::V4Header`]: sign this `x-oss-content-sha256` instead of
    /// `UNSIGNED-PAYLOAD` (any string, so tests can send a digest that does not match).
    pub payload_sha256: Option<&'a str>,
}

impl Client {
    /// A V4 header-signing client.
    pub fn new(addr: SocketAddr, credentials: Credentials) -> Self {
        Self {
            addr,
            credentials,
            signing: Signing::V4Header,
            clock_offset: 0,
        }
    }

    fn now(&self) -> u64 {
        let t = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        t.saturating_add_signed(self.clock_offset)
    }

    /// Signs and sends `call`, reading the whole response (or what arrives before the server
    /// closes).
    ///
    /// # Errors
    /// Socket errors (including a reset by the server) and signing errors.
    pub fn send(&self, call: &Call<'_>) -> io::Result<Response> {
        let mut headers: Vec<(String, String)> = call
            .headers
            .iter()
            .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
            .collect();
        headers.push(("Content-Length".into(), call.body.len().to_string()));
        let mut query: Vec<(String, String)> = call
            .query
            .iter()
            .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
            .collect();
        let now = self.now();
        {
            let h: Vec<(&str, &str)> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let q: Vec<(&str, &str)> = call.query.clone();
            let req = Request {
                method: call.method,
                bucket: call.bucket,
                key: call.key,
                query: &q,
                headers: &h,
            };
            let params = v4::Params::new("cn-hangzhou");
            let err =
                |e: sign::SignError| io::Error::new(io::ErrorKind::InvalidInput, e.to_string());
            match self.signing {
                Signing::V4Header if call.payload_sha256.is_some() => headers.extend(
                    sign_v4_payload(
                        &req,
                        &self.credentials,
                        &params,
                        now,
                        call.payload_sha256.unwrap_or_default(),
                    )
                    .map_err(err)?,
                ),
                Signing::V4Header => headers.extend(
                    v4::sign_headers(&req, &self.credentials, &params, now)
                        .map_err(err)?
                        .headers,
                ),
                Signing::V1Header => headers.extend(
                    v1::sign_headers(&req, &self.credentials, now, &[])
                        .map_err(err)?
                        .headers,
                ),
                Signing::V4Query(secs) => query.extend(
                    v4::presign(&req, &self.credentials, &params, now, secs)
                        .map_err(err)?
                        .query,
                ),
                Signing::V1Query(secs) => query.extend(
                    v1::presign(&req, &self.credentials, now + secs, &[])
                        .map_err(err)?
                        .query,
                ),
                Signing::None => {}
            }
        }
        let mut path = String::from("/");
        if let Some(b) = call.bucket {
            path.push_str(&uri_encode(b, false));
            path.push('/');
        }
        if let Some(k) = call.key {
            path.push_str(&uri_encode(k, true));
        }
        if !query.is_empty() {
            path.push('?');
            path.push_str(&encode_query(
                query.iter().map(|(n, v)| (n.as_str(), v.as_str())),
            ));
        }
        let mut stream = TcpStream::connect(self.addr)?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut head = format!(
            "{} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            call.method, self.addr
        );
        for (n, v) in &headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes())?;
        stream.write_all(call.body)?;
        read_response(stream, call.method == "HEAD")
    }
}

/// V4 header signing with a given `x-oss-content-sha256` (`v4::sign_headers` always signs
/// `UNSIGNED-PAYLOAD`), composed from the same public building blocks.
fn sign_v4_payload(
    req: &Request<'_>,
    cred: &Credentials,
    params: &v4::Params<'_>,
    now: u64,
    payload: &str,
) -> Result<Vec<(String, String)>, sign::SignError> {
    let datetime = sign::format_iso8601_basic(now)?;
    let date = datetime.get(..8).unwrap_or_default();
    let mut set = vec![
        (sign::HEADER_OSS_DATE.to_string(), datetime.clone()),
        (sign::HEADER_CONTENT_SHA256.to_string(), payload.to_string()),
    ];
    if let Some(token) = cred.security_token() {
        set.push((sign::HEADER_SECURITY_TOKEN.to_string(), token.to_string()));
    }
    let mut all: Vec<(&str, &str)> = req.headers.to_vec();
    all.extend(set.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let signed = Request {
        headers: &all,
        ..*req
    };
    let canonical = v4::canonical_request(&signed, &[]);
    let scope = v4::scope(date, params.region, params.product);
    let string_to_sign = v4::string_to_sign(&datetime, &scope, &canonical);
    let key = v4::signing_key(
        cred.access_key_secret(),
        date,
        params.region,
        params.product,
    );
    let signature = v4::signature(&key, &string_to_sign);
    set.push((
        "Authorization".to_string(),
        format!(
            "{} Credential={}/{scope},Signature={signature}",
            v4::ALGORITHM,
            cred.access_key_id()
        ),
    ));
    Ok(set)
}

/// Sends `raw` (a complete request, as bytes on the wire) on a new connection and reads one
/// response: for tests of exact request forms that [`Client::send`] does not produce.
///
/// # Errors
/// Socket errors, or a response without a status line.
pub fn exchange(addr: SocketAddr, raw: &[u8], head_only: bool) -> io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(raw)?;
    read_response(stream, head_only)
}

fn read_response(stream: TcpStream, head_only: bool) -> io::Result<Response> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad status line {line:?}"),
            )
        })?;
    let mut headers = Vec::new();
    loop {
        let mut l = String::new();
        if reader.read_line(&mut l)? == 0 || l.trim().is_empty() {
            break;
        }
        if let Some((n, v)) = l.split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    let content_length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<u64>().ok());
    let mut body = Vec::new();
    if !head_only {
        reader
            .take(content_length.unwrap_or(u64::MAX))
            .read_to_end(&mut body)?;
    }
    Ok(Response {
        status,
        headers,
        body,
        content_length,
    })
}

//! A minimal HTTP/1.1 request reader and response writer with the socket-level control the
//! fault knobs need (body byte counting, pacing, early close).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Longest request head accepted (request line plus headers).
const MAX_HEAD: usize = 64 * 1024;
/// Largest request body accepted (the server keeps objects in memory).
pub(crate) const MAX_BODY: u64 = 1 << 31;

/// A parsed request.
#[derive(Debug)]
pub(crate) struct HttpRequest {
    pub(crate) method: String,
    /// The raw path (percent-encoded), without the query.
    pub(crate) path: String,
    /// Decoded query pairs in arrival order.
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl HttpRequest {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn has_query(&self, name: &str) -> bool {
        self.query.iter().any(|(n, _)| n == name)
    }
}

/// Why reading a request stopped.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The peer closed the connection between requests.
    Closed,
    /// A malformed request; answer 400 and close.
    Bad(&'static str),
    /// The fault knob cut the connection mid-body.
    Reset,
    /// Socket error or timeout.
    Io,
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        Self::Io
    }
}

/// Decodes `%XX` escapes (invalid escapes are kept literally); `+` stays `+`.
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// Paces reads or writes to `rate` bytes per second.
pub(crate) struct Pacer {
    rate: Option<u64>,
    start: Instant,
    done: u64,
}

impl Pacer {
    pub(crate) fn new(rate: Option<u64>) -> Self {
        Self {
            rate,
            start: Instant::now(),
            done: 0,
        }
    }

    pub(crate) fn chunk(&self) -> usize {
        match self.rate {
            Some(r) => (r / 20).clamp(1, 64 * 1024) as usize,
            None => 256 * 1024,
        }
    }

    pub(crate) fn account(&mut self, n: usize) {
        self.done += n as u64;
        if let Some(r) = self.rate.filter(|r| *r > 0) {
            let due = Duration::from_secs_f64(self.done as f64 / r as f64);
            let spent = self.start.elapsed();
            if due > spent {
                thread::sleep(due - spent);
            }
        }
    }
}

/// Knobs applied while reading a request body.
pub(crate) struct BodyFaults {
    pub(crate) reset_after: Option<u64>,
    pub(crate) throttle: Option<u64>,
}

/// Reads one request, answering `Expect: 100-continue` before reading the body.
pub(crate) fn read_request(
    reader: &mut BufReader<TcpStream>,
    faults: &BodyFaults,
) -> Result<HttpRequest, ReadError> {
    let mut head = Vec::new();
    loop {
        let mut line = Vec::new();
        let n = reader
            .by_ref()
            .take(MAX_HEAD as u64)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            return if head.is_empty() {
                Err(ReadError::Closed)
            } else {
                Err(ReadError::Bad("truncated head"))
            };
        }
        if head.is_empty() && (line == b"\r\n" || line == b"\n") {
            continue; // stray CRLF between requests
        }
        head.extend_from_slice(&line);
        if head.len() > MAX_HEAD {
            return Err(ReadError::Bad("request head too large"));
        }
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let text = String::from_utf8(head).map_err(|_| ReadError::Bad("request head is not UTF-8"))?;
    let mut lines = text.lines();
    let request_line = lines.next().ok_or(ReadError::Bad("empty request"))?;
    let mut parts = request_line.split(' ');
    let method = parts
        .next()
        .filter(|m| !m.is_empty())
        .ok_or(ReadError::Bad("no method"))?;
    let target = parts.next().ok_or(ReadError::Bad("no request target"))?;
    let version = parts.next().ok_or(ReadError::Bad("no HTTP version"))?;
    if !version.starts_with("HTTP/1.") {
        return Err(ReadError::Bad("only HTTP/1.x is served"));
    }
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        // obs-fold (RFC 9112 §5.2): a line starting with SP/HTAB continues the previous
        // value; it is replaced by one space.
        if line.starts_with([' ', '\t']) {
            let (_, value) = headers
                .last_mut()
                .ok_or(ReadError::Bad("folded line before any header"))?;
            let more = line.trim();
            if !more.is_empty() {
                if !value.is_empty() {
                    value.push(' ');
                }
                value.push_str(more);
            }
            continue;
        }
        let (n, v) = line
            .split_once(':')
            .ok_or(ReadError::Bad("header line without colon"))?;
        if n.is_empty() || n.ends_with([' ', '\t']) {
            return Err(ReadError::Bad("whitespace before a header colon"));
        }
        headers.push((n.to_string(), v.trim().to_string()));
    }
    // Absolute-form targets (proxies) carry scheme and host: keep the path.
    let target = target
        .strip_prefix("http://")
        .map_or(target, |t| t.find('/').map_or("/", |i| &t[i..]));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut req = HttpRequest {
        method: method.to_string(),
        path: path.to_string(),
        query: parse_query(query),
        headers,
        body: Vec::new(),
    };

    let chunked = req
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    let length = match req.header("content-length") {
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| ReadError::Bad("invalid Content-Length"))?,
        ),
        None => None,
    };
    if length.is_some_and(|l| l > MAX_BODY) {
        return Err(ReadError::Bad("body too large for the test server"));
    }
    let has_body = chunked || length.is_some_and(|l| l > 0);
    if has_body
        && req
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    {
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    }
    let mut body = BodyReader {
        reader,
        faults,
        pacer: Pacer::new(faults.throttle),
        total: 0,
    };
    if chunked {
        loop {
            let mut size_line = String::new();
            body.reader.read_line(&mut size_line)?;
            // chunk-size [ BWS ; chunk-ext ]: extensions are ignored.
            let size_text = size_line.split(';').next().unwrap_or("").trim();
            let size = u64::from_str_radix(size_text, 16)
                .map_err(|_| ReadError::Bad("invalid chunk size"))?;
            if size == 0 {
                // Trailers until the empty line.
                loop {
                    let mut t = String::new();
                    if body.reader.read_line(&mut t)? == 0 || t.trim().is_empty() {
                        break;
                    }
                }
                break;
            }
            if size > MAX_BODY || body.total + size > MAX_BODY {
                return Err(ReadError::Bad("body too large for the test server"));
            }
            body.read_exact_into(&mut req.body, size)?;
            let mut crlf = String::new();
            body.reader.read_line(&mut crlf)?;
            if crlf != "\r\n" && crlf != "\n" {
                return Err(ReadError::Bad("chunk data not followed by CRLF"));
            }
        }
    } else if let Some(len) = length {
        body.read_exact_into(&mut req.body, len)?;
    }
    Ok(req)
}

struct BodyReader<'a> {
    reader: &'a mut BufReader<TcpStream>,
    faults: &'a BodyFaults,
    pacer: Pacer,
    total: u64,
}

impl BodyReader<'_> {
    fn read_exact_into(&mut self, out: &mut Vec<u8>, mut n: u64) -> Result<(), ReadError> {
        let mut buf = vec![0u8; self.pacer.chunk()];
        while n > 0 {
            let mut want = (buf.len() as u64).min(n);
            if let Some(limit) = self.faults.reset_after {
                if self.total >= limit {
                    // Closing with unread data queued makes the kernel send RST.
                    return Err(ReadError::Reset);
                }
                want = want.min(limit - self.total);
            }
            let got = self.reader.read(&mut buf[..want as usize])?;
            if got == 0 {
                return Err(ReadError::Bad("body shorter than announced"));
            }
            out.extend_from_slice(&buf[..got]);
            self.total += got as u64;
            n -= got as u64;
            self.pacer.account(got);
        }
        Ok(())
    }
}

/// A response body: a window into shared bytes, so stored objects are served without copies.
#[derive(Debug, Default)]
pub(crate) struct Body {
    bytes: Arc<Vec<u8>>,
    start: usize,
    end: usize,
}

impl Body {
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[self.start..self.end]
    }
}

/// A response ready to send.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Body,
    /// HEAD: announce `Content-Length` of `body` but send no body.
    pub(crate) head_only: bool,
}

impl HttpResponse {
    pub(crate) fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::default(),
            head_only: false,
        }
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub(crate) fn set_header(&mut self, name: &str, value: impl Into<String>) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_string(), value.into()));
    }

    pub(crate) fn get_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn body(mut self, body: Vec<u8>) -> Self {
        let end = body.len();
        self.body = Body {
            bytes: Arc::new(body),
            start: 0,
            end,
        };
        self
    }

    /// Serves `bytes[range]` without copying (`range` must lie within `bytes`).
    pub(crate) fn shared_body(
        mut self,
        bytes: Arc<Vec<u8>>,
        range: core::ops::Range<usize>,
    ) -> Self {
        let end = range.end.min(bytes.len());
        self.body = Body {
            bytes,
            start: range.start.min(end),
            end,
        };
        self
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        204 => "No Content",
        206 => "Partial Content",
        304 => "Not Modified",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        411 => "Length Required",
        412 => "Precondition Failed",
        416 => "Requested Range Not Satisfiable",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Knobs applied while writing a response body.
pub(crate) struct ResponseFaults {
    /// Send only this many body bytes, then close.
    pub(crate) truncate_at: Option<u64>,
    pub(crate) throttle: Option<u64>,
}

/// Writes `resp`; returns `false` when the connection must be closed afterwards.
pub(crate) fn write_response(
    stream: &mut TcpStream,
    resp: &HttpResponse,
    faults: &ResponseFaults,
) -> io::Result<bool> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (n, v) in &resp.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    let body = resp.body.as_slice();
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes())?;
    if resp.head_only {
        stream.flush()?;
        return Ok(true);
    }
    let limit = faults
        .truncate_at
        .map_or(body.len(), |t| (t as usize).min(body.len()));
    let mut pacer = Pacer::new(faults.throttle);
    for chunk in body[..limit].chunks(pacer.chunk()) {
        stream.write_all(chunk)?;
        pacer.account(chunk.len());
    }
    stream.flush()?;
    Ok(limit == body.len())
}

/// Accepts connections on `listener` in a thread named `name`, serving each one on its own
/// thread (`name-conn`) with `serve`, until `stopped(shared)` is true when a connection arrives
/// (the servers' `Drop` sets the flag and connects once to wake the loop).
pub(crate) fn accept_loop<S: Send + Sync + 'static>(
    listener: TcpListener,
    name: &str,
    shared: Arc<S>,
    stopped: fn(&S) -> bool,
    serve: fn(TcpStream, &S),
) -> io::Result<JoinHandle<()>> {
    let conn_name = format!("{name}-conn");
    thread::Builder::new().name(name.into()).spawn(move || {
        for conn in listener.incoming() {
            if stopped(&shared) {
                break;
            }
            let Ok(stream) = conn else { continue };
            let s = Arc::clone(&shared);
            let _ = thread::Builder::new()
                .name(conn_name.clone())
                .spawn(move || serve(stream, &s));
        }
    })
}

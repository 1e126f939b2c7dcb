//! RFC 3986 percent-encoding as OSS signs it: upper-case hex, only `A-Z a-z 0-9 - . _ ~` kept.

use alloc::string::String;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

fn encode_into(out: &mut String, s: &str, keep_slash: bool) {
    for &b in s.as_bytes() {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
}

/// Percent-encodes `s` (RFC 3986, upper-case hex; a space becomes `%20`). With `keep_slash`, `/`
/// stays as it is (object keys in paths); otherwise it becomes `%2F` (query names and values).
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    encode_into(&mut out, s, keep_slash);
    out
}

/// Builds `k1=v1&k2&k3=v3` from decoded pairs, in the given order, encoding names and values
/// with [`uri_encode`]; an empty value writes the name alone.
pub fn encode_query<'a, I>(pairs: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        encode_into(&mut out, k, false);
        if !v.is_empty() {
            out.push('=');
            encode_into(&mut out, v, false);
        }
    }
    out
}

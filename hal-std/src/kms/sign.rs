//! The Alibaba Cloud RPC signature (signature version 1.0, HMAC-SHA1), shared by the client
//! and the loopback KMS server in osscse-tests.
//!
//! `StringToSign = METHOD + "&" + enc("/") + "&" + enc(canonical query)`, where the canonical
//! query is `enc(name)=enc(value)` for every parameter but `Signature`, sorted by name and
//! joined with `&`; `enc` is RFC 3986 percent-encoding with upper-case hex (`+` → `%20`,
//! `*` → `%2A`, `~` kept). The signature is base64 HMAC-SHA1 keyed with `secret + "&"`.

use osscse_core::sign::{uri_encode, v1};
use zeroize::Zeroize;

/// `SignatureMethod` value.
pub const SIGNATURE_METHOD: &str = "HMAC-SHA1";
/// `SignatureVersion` value.
pub const SIGNATURE_VERSION: &str = "1.0";

/// The canonical query: every parameter but `Signature`, sorted by name (then value), each as
/// `enc(name)=enc(value)`, joined with `&`.
pub fn canonical_query<'a, I>(params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut pairs: Vec<(String, String)> = params
        .into_iter()
        .filter(|(k, _)| *k != "Signature")
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    pairs.sort();
    // Values may be data keys (Encrypt's Plaintext): size the output once and wipe the
    // encoded copies, so no reallocation or temporary leaves them in freed memory.
    let total: usize = pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut out = String::with_capacity(total);
    for (mut k, mut v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&k);
        out.push('=');
        out.push_str(&v);
        k.zeroize();
        v.zeroize();
    }
    out
}

/// `METHOD&%2F&enc(canonical query)`.
pub fn string_to_sign<'a, I>(method: &str, params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let query = zeroize::Zeroizing::new(canonical_query(params));
    let mut encoded = zeroize::Zeroizing::new(uri_encode(&query, false));
    let mut out = String::with_capacity(method.len() + 6 + encoded.len());
    out.push_str(method);
    out.push_str("&%2F&");
    out.push_str(&encoded);
    encoded.zeroize();
    out
}

/// The `Signature` parameter for `params` (any `Signature` among them is ignored).
pub fn signature<'a, I>(secret: &str, method: &str, params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut key = zeroize::Zeroizing::new(String::with_capacity(secret.len() + 1));
    key.push_str(secret);
    key.push('&');
    let to_sign = zeroize::Zeroizing::new(string_to_sign(method, params));
    v1::signature(&key, &to_sign)
}

/// An `application/x-www-form-urlencoded` body (or query) in the given order, names and
/// values percent-encoded as for signing.
pub fn form<'a, I>(params: I) -> String
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let encoded: Vec<(String, String)> = params
        .into_iter()
        .map(|(k, v)| (uri_encode(k, false), uri_encode(v, false)))
        .collect();
    let total: usize = encoded.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    let mut out = String::with_capacity(total);
    for (mut k, mut v) in encoded {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&k);
        out.push('=');
        out.push_str(&v);
        k.zeroize();
        v.zeroize();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of the Alibaba Cloud RPC signature documentation (ECS
    /// `DescribeRegions`, secret `testsecret`).
    #[test]
    fn documented_example() {
        let params = [
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ];
        assert_eq!(
            string_to_sign("GET", params),
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
        );
        assert_eq!(
            signature("testsecret", "GET", params),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn encoding_rules_and_signature_param_ignored() {
        let p = [("b", "a b*~+/="), ("a", "1"), ("Signature", "x")];
        assert_eq!(canonical_query(p), "a=1&b=a%20b%2A~%2B%2F%3D");
        assert_eq!(
            signature("s", "POST", p),
            signature("s", "POST", [p[0], p[1]])
        );
        assert_ne!(signature("s", "POST", p), signature("t", "POST", p));
    }
}

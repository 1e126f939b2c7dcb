//! HMAC-SHA1 `OSS AK:signature` (FORMAT.md §8.1 header form, §8.2 presigned URL).
//!
//! V1 signs only some query parameters. [`SIGNED_SUB_RESOURCES`] is the Go v2 SDK's list; any
//! parameter starting with `x-oss-` is signed too, and an operation can name more
//! (`resourceGroup`, `lifecycle`, ...) through the `sub_resources` argument.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use base64ct::{Base64, Encoding};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use super::{
    Credentials, HEADER_SECURITY_TOKEN, Presigned, Request, SignError, SignedHeaders,
    canonical_headers, check_headers, format_rfc1123, merge_headers, resource_path,
};

/// Query parameters that are always part of the V1 canonicalized resource (Go v2's
/// `requiredSignedParametersMap`).
pub const SIGNED_SUB_RESOURCES: &[&str] = &[
    "acl",
    "bucketInfo",
    "location",
    "stat",
    "delete",
    "append",
    "tagging",
    "objectMeta",
    "uploads",
    "uploadId",
    "partNumber",
    "security-token",
    "position",
    "response-content-type",
    "response-content-language",
    "response-expires",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "restore",
    "callback",
    "callback-var",
    "versions",
    "versioning",
    "versionId",
    "sequential",
    "continuation-token",
    "regionList",
    "cloudboxes",
    "symlink",
];

/// Whether query parameter `name` is signed, given the operation's extra sub-resources.
pub fn is_signed_param(name: &str, sub_resources: &[&str]) -> bool {
    SIGNED_SUB_RESOURCES.contains(&name)
        || name.starts_with("x-oss-")
        || sub_resources.contains(&name)
}

/// `/bucket/key` (raw key), `/bucket/` or `/`, then `?` and the sorted signed parameters as
/// `k=v` (decoded value) or `k`, joined by `&`. A repeated parameter counts once, first value.
pub fn canonical_resource(req: &Request<'_>, sub_resources: &[&str]) -> String {
    let mut out = resource_path(req.bucket, req.key);
    let mut params: Vec<(&str, &str)> = Vec::new();
    for (k, v) in req.query {
        if is_signed_param(k, sub_resources) && !params.iter().any(|(p, _)| p == k) {
            params.push((k, v));
        }
    }
    params.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (k, v)) in params.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        if !v.is_empty() {
            out.push('=');
            out.push_str(v);
        }
    }
    out
}

/// `VERB\nContent-MD5\nContent-Type\n<date>\n<x-oss- headers><resource>`, where `date` is the
/// `Date` header (header form) or the `Expires` seconds (presigned form).
pub fn string_to_sign(req: &Request<'_>, date: &str, sub_resources: &[&str]) -> String {
    let mut out = format!(
        "{}\n{}\n{}\n{}\n",
        req.method,
        req.header("content-md5").unwrap_or(""),
        req.header("content-type").unwrap_or(""),
        date
    );
    for (name, value) in canonical_headers(req.headers, |lower| lower.starts_with("x-oss-")) {
        out.push_str(&name);
        out.push(':');
        out.push_str(&value);
        out.push('\n');
    }
    out.push_str(&canonical_resource(req, sub_resources));
    out
}

/// Base64 `HMAC-SHA1(secret, string_to_sign)`.
pub fn signature(secret: &str, string_to_sign: &str) -> String {
    // HMAC accepts keys of any length, so this constructor cannot fail.
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes any key length");
    mac.update(string_to_sign.as_bytes());
    Base64::encode_string(&mac.finalize().into_bytes())
}

/// Signs in header form at Unix time `time`.
///
/// Returns `Date` (RFC 1123, signed), the STS `x-oss-security-token` when the credentials have
/// one, and `Authorization: OSS AK:signature`.
///
/// # Errors
/// Empty credentials, a header value with a line break, a time after year 9999.
pub fn sign_headers(
    req: &Request<'_>,
    cred: &Credentials,
    time: u64,
    sub_resources: &[&str],
) -> Result<SignedHeaders, SignError> {
    cred.check()?;
    let date = format_rfc1123(time)?;
    let mut set: Vec<(&str, &str)> = alloc::vec![("Date", date.as_str())];
    if let Some(token) = cred.security_token() {
        set.push((HEADER_SECURITY_TOKEN, token));
    }
    let headers = merge_headers(req.headers, &set);
    check_headers(&headers)?;
    let signed_req = Request {
        headers: &headers,
        ..*req
    };
    let string_to_sign = string_to_sign(&signed_req, &date, sub_resources);
    let signature = signature(cred.access_key_secret(), &string_to_sign);
    let mut out: Vec<(String, String)> = set
        .iter()
        .map(|(n, v)| (String::from(*n), String::from(*v)))
        .collect();
    out.push((
        String::from("Authorization"),
        format!("OSS {}:{}", cred.access_key_id(), signature),
    ));
    Ok(SignedHeaders {
        headers: out,
        canonical_request: String::new(),
        string_to_sign,
        signature,
    })
}

/// Presigns a URL that expires at Unix time `expires_at` (absolute, as V1 `Expires` is).
///
/// Returns the query parameters to append: `security-token` (STS only, signed), `Expires`,
/// `OSSAccessKeyId`, `Signature`.
///
/// # Errors
/// Empty credentials or a header value with a line break.
pub fn presign(
    req: &Request<'_>,
    cred: &Credentials,
    expires_at: u64,
    sub_resources: &[&str],
) -> Result<Presigned, SignError> {
    cred.check()?;
    check_headers(req.headers)?;
    let mut added: Vec<(String, String)> = Vec::new();
    if let Some(token) = cred.security_token() {
        added.push((String::from("security-token"), String::from(token)));
    }
    let mut query: Vec<(&str, &str)> = req.query.to_vec();
    query.extend(added.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let signed_req = Request {
        query: &query,
        ..*req
    };
    let expires = format!("{expires_at}");
    let string_to_sign = string_to_sign(&signed_req, &expires, sub_resources);
    let signature = signature(cred.access_key_secret(), &string_to_sign);
    added.push((String::from("Expires"), expires));
    added.push((
        String::from("OSSAccessKeyId"),
        String::from(cred.access_key_id()),
    ));
    added.push((String::from("Signature"), signature.clone()));
    Ok(Presigned {
        query: added,
        canonical_request: String::new(),
        string_to_sign,
        signature,
    })
}

//! `OSS4-HMAC-SHA256` (FORMAT.md §8.3 header form, §8.4 presigned URL).
//!
//! The building blocks ([`canonical_request`], [`string_to_sign`], [`signing_key`],
//! [`signature`]) are public so that a server can verify a received request with exactly the
//! code that signs; [`sign_headers`] and [`presign`] compose them the way the SDKs do.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{
    Credentials, HEADER_CONTENT_SHA256, HEADER_OSS_DATE, HEADER_SECURITY_TOKEN, Presigned, Request,
    SecretString, SignError, SignedHeaders, UNSIGNED_PAYLOAD, canonical_headers, check_headers,
    encode, format_iso8601_basic, format_rfc1123, merge_headers, resource_path,
};

/// The algorithm name in `Authorization` and `x-oss-signature-version`.
pub const ALGORITHM: &str = "OSS4-HMAC-SHA256";
/// The last element of every V4 scope.
pub const REQUEST_TYPE: &str = "aliyun_v4_request";
/// The longest validity of a V4 presigned URL, in seconds (7 days).
pub const MAX_PRESIGN_SECONDS: u64 = 604_800;

/// Where the signature is valid: region and product of the endpoint, plus the extra headers
/// to sign.
#[derive(Debug, Clone, Copy)]
pub struct Params<'a> {
    /// Region id such as `cn-hangzhou` (not `oss-cn-hangzhou`), or the CloudBox id.
    pub region: &'a str,
    /// `oss` ([`super::PRODUCT_OSS`]), or `oss-cloudbox` for CloudBox.
    pub product: &'a str,
    /// Headers to sign besides the default ones (any case; absent or default ones are dropped).
    pub additional_headers: &'a [&'a str],
}

impl<'a> Params<'a> {
    /// Ordinary OSS in `region`, no additional headers.
    pub fn new(region: &'a str) -> Self {
        Self {
            region,
            product: super::PRODUCT_OSS,
            additional_headers: &[],
        }
    }
}

/// Whether a lower-case header name is always signed.
pub fn is_default_signed_header(lower: &str) -> bool {
    lower.starts_with("x-oss-") || lower == "content-type" || lower == "content-md5"
}

/// The `AdditionalHeaders` list: lower-cased, sorted, without default-signed names and without
/// names absent (or empty) in `headers`.
pub fn additional_headers(headers: &[(&str, &str)], requested: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = requested
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .filter(|h| !is_default_signed_header(h))
        .filter(|h| {
            headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case(h) && !v.is_empty())
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The canonical request: method, URI, query, headers, additional headers, payload hash.
///
/// `additional` must already be normalised by [`additional_headers`]. The payload hash is the
/// request's `x-oss-content-sha256` value, or `UNSIGNED-PAYLOAD` when it has none.
pub fn canonical_request(req: &Request<'_>, additional: &[String]) -> String {
    let mut out = String::new();
    out.push_str(req.method);
    out.push('\n');
    out.push_str(&encode::uri_encode(
        &resource_path(req.bucket, req.key),
        true,
    ));
    out.push('\n');

    let mut query: Vec<(String, String)> = req
        .query
        .iter()
        .map(|(k, v)| (encode::uri_encode(k, false), encode::uri_encode(v, false)))
        .collect();
    query.sort();
    for (i, (k, v)) in query.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        if !v.is_empty() {
            out.push('=');
            out.push_str(v);
        }
    }
    out.push('\n');

    let signed = canonical_headers(req.headers, |lower| {
        is_default_signed_header(lower) || additional.iter().any(|a| a == lower)
    });
    for (name, value) in &signed {
        out.push_str(name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&additional.join(";"));
    out.push('\n');
    out.push_str(
        req.header(HEADER_CONTENT_SHA256)
            .unwrap_or(UNSIGNED_PAYLOAD),
    );
    out
}

/// `<yyyymmdd>/<region>/<product>/aliyun_v4_request`.
pub fn scope(date: &str, region: &str, product: &str) -> String {
    format!("{date}/{region}/{product}/{REQUEST_TYPE}")
}

fn hex_lower(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// `OSS4-HMAC-SHA256\n<datetime>\n<scope>\nhex(sha256(canonical_request))`.
pub fn string_to_sign(datetime: &str, scope: &str, canonical_request: &str) -> String {
    let hash = Sha256::digest(canonical_request.as_bytes());
    format!("{ALGORITHM}\n{datetime}\n{scope}\n{}", hex_lower(&hash))
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Zeroizing<[u8; 32]> {
    // HMAC accepts keys of any length, so this constructor cannot fail.
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

/// The signing key: `HMAC(HMAC(HMAC(HMAC("aliyun_v4" + secret, date), region), product),
/// "aliyun_v4_request")`.
pub fn signing_key(secret: &str, date: &str, region: &str, product: &str) -> Zeroizing<[u8; 32]> {
    let mut seed = SecretString(String::with_capacity(9 + secret.len()));
    seed.0.push_str("aliyun_v4");
    seed.0.push_str(secret);
    let k_date = hmac_sha256(seed.0.as_bytes(), date.as_bytes());
    let k_region = hmac_sha256(&*k_date, region.as_bytes());
    let k_product = hmac_sha256(&*k_region, product.as_bytes());
    hmac_sha256(&*k_product, REQUEST_TYPE.as_bytes())
}

/// Lower-case hex `HMAC-SHA256(signing_key, string_to_sign)`.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex_lower(&*hmac_sha256(signing_key, string_to_sign.as_bytes()))
}

struct Prepared {
    datetime: String,
    date: String,
    scope: String,
    additional: Vec<String>,
}

fn prepare(
    cred: &Credentials,
    params: &Params<'_>,
    headers: &[(&str, &str)],
    time: u64,
) -> Result<Prepared, SignError> {
    cred.check()?;
    if params.region.is_empty() {
        return Err(SignError::MissingRegion);
    }
    check_headers(headers)?;
    let datetime = format_iso8601_basic(time)?;
    let date = String::from(&datetime[..8]);
    let scope = scope(&date, params.region, params.product);
    let additional = additional_headers(headers, params.additional_headers);
    Ok(Prepared {
        datetime,
        date,
        scope,
        additional,
    })
}

/// Signs in header form at Unix time `time`.
///
/// Returns `x-oss-date`, `Date` (not signed), `x-oss-content-sha256` (the request's own value,
/// e.g. the hex SHA-256 of the body for a gateway that verifies it, else `UNSIGNED-PAYLOAD`,
/// the only value OSS itself accepts), the
/// STS `x-oss-security-token` when the credentials have one, and `Authorization`
/// (`OSS4-HMAC-SHA256 Credential=AK/scope[,AdditionalHeaders=a;b],Signature=hex`).
///
/// # Errors
/// Empty credentials or region, a header value with a line break, a time after year 9999.
pub fn sign_headers(
    req: &Request<'_>,
    cred: &Credentials,
    params: &Params<'_>,
    time: u64,
) -> Result<SignedHeaders, SignError> {
    let datetime = format_iso8601_basic(time)?;
    let http_date = format_rfc1123(time)?;
    // A caller that hashed the body passes its hex SHA-256 as `x-oss-content-sha256`; it is
    // signed as given. Otherwise the payload is unsigned.
    let payload = req
        .header(HEADER_CONTENT_SHA256)
        .filter(|v| !v.is_empty())
        .unwrap_or(UNSIGNED_PAYLOAD);
    let mut set: Vec<(&str, &str)> = alloc::vec![
        (HEADER_OSS_DATE, datetime.as_str()),
        ("Date", http_date.as_str()),
        (HEADER_CONTENT_SHA256, payload),
    ];
    if let Some(token) = cred.security_token() {
        set.push((HEADER_SECURITY_TOKEN, token));
    }
    let headers = merge_headers(req.headers, &set);
    let p = prepare(cred, params, &headers, time)?;
    let signed_req = Request {
        headers: &headers,
        ..*req
    };
    let canonical_request = canonical_request(&signed_req, &p.additional);
    let string_to_sign = string_to_sign(&p.datetime, &p.scope, &canonical_request);
    let key = signing_key(
        cred.access_key_secret(),
        &p.date,
        params.region,
        params.product,
    );
    let signature = signature(&key, &string_to_sign);

    let mut auth = format!(
        "{ALGORITHM} Credential={}/{}",
        cred.access_key_id(),
        p.scope
    );
    if !p.additional.is_empty() {
        auth.push_str(",AdditionalHeaders=");
        auth.push_str(&p.additional.join(";"));
    }
    auth.push_str(",Signature=");
    auth.push_str(&signature);

    let mut out: Vec<(String, String)> = set
        .iter()
        .map(|(n, v)| (String::from(*n), String::from(*v)))
        .collect();
    out.push((String::from("Authorization"), auth));
    Ok(SignedHeaders {
        headers: out,
        canonical_request,
        string_to_sign,
        signature,
    })
}

/// Presigns at Unix time `time` for `expires_in` seconds.
///
/// Returns the query parameters to append, in this order: `x-oss-security-token` (STS only),
/// `x-oss-signature-version`, `x-oss-date`, `x-oss-expires`, `x-oss-credential`,
/// `x-oss-additional-headers` (when any), `x-oss-signature`. All but the last are signed.
///
/// # Errors
/// As [`sign_headers`], plus an `expires_in` of zero or over 7 days.
pub fn presign(
    req: &Request<'_>,
    cred: &Credentials,
    params: &Params<'_>,
    time: u64,
    expires_in: u64,
) -> Result<Presigned, SignError> {
    if expires_in == 0 {
        return Err(SignError::ExpiryNotAfterSigningTime);
    }
    if expires_in > MAX_PRESIGN_SECONDS {
        return Err(SignError::ExpiryTooLong);
    }
    let p = prepare(cred, params, req.headers, time)?;
    let mut added: Vec<(String, String)> = Vec::new();
    if let Some(token) = cred.security_token() {
        added.push((String::from("x-oss-security-token"), String::from(token)));
    }
    added.push((
        String::from("x-oss-signature-version"),
        String::from(ALGORITHM),
    ));
    added.push((String::from("x-oss-date"), p.datetime.clone()));
    added.push((String::from("x-oss-expires"), format!("{expires_in}")));
    added.push((
        String::from("x-oss-credential"),
        format!("{}/{}", cred.access_key_id(), p.scope),
    ));
    if !p.additional.is_empty() {
        added.push((
            String::from("x-oss-additional-headers"),
            p.additional.join(";"),
        ));
    }

    let mut query: Vec<(&str, &str)> = req.query.to_vec();
    query.extend(added.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let signed_req = Request {
        query: &query,
        ..*req
    };
    let canonical_request = canonical_request(&signed_req, &p.additional);
    let string_to_sign = string_to_sign(&p.datetime, &p.scope, &canonical_request);
    let key = signing_key(
        cred.access_key_secret(),
        &p.date,
        params.region,
        params.product,
    );
    let signature = signature(&key, &string_to_sign);
    added.push((String::from("x-oss-signature"), signature.clone()));
    Ok(Presigned {
        query: added,
        canonical_request,
        string_to_sign,
        signature,
    })
}

//! Signature verification: every expected value is computed with `osscse_core::sign`, from the
//! request exactly as received.

use osscse_core::sign::{self, Credentials, Request, v1, v4};

use crate::xml::OssError;

/// V1 sub-resources that oss2 (and OSS) sign besides `v1::SIGNED_SUB_RESOURCES`; Go v2 passes
/// them per operation. The server treats them as signed whenever they appear.
const V1_EXTRA_SUB_RESOURCES: &[&str] = &[
    "logging",
    "group",
    "link",
    "website",
    "objectInfo",
    "cors",
    "lifecycle",
    "qos",
    "referer",
    "live",
    "comp",
    "status",
    "vod",
    "startTime",
    "endTime",
    "encryption",
    "policy",
    "requestPayment",
    "qosInfo",
    "asyncFetch",
    "inventory",
    "inventoryId",
    "worm",
    "wormId",
    "wormExtend",
    "replication",
    "replicationLocation",
    "replicationProgress",
    "transferAcceleration",
    "cname",
    "metaQuery",
    "resourceGroup",
    "style",
    "styleName",
];

/// What the verifier needs besides the request.
pub(crate) struct AuthContext<'a> {
    pub(crate) credentials: &'a Credentials,
    pub(crate) now: u64,
    pub(crate) max_skew: u64,
    pub(crate) bucket: Option<&'a str>,
    pub(crate) key: Option<&'a str>,
}

fn access_denied(message: impl Into<String>) -> OssError {
    OssError::new(403, "AccessDenied", message)
}

fn check_access_key(ctx: &AuthContext<'_>, id: &str) -> Result<(), OssError> {
    if id != ctx.credentials.access_key_id() {
        return Err(OssError::new(
            403,
            "InvalidAccessKeyId",
            "The OSS Access Key Id you provided does not exist in our records.",
        )
        .with("OSSAccessKeyId", id));
    }
    Ok(())
}

fn check_token(ctx: &AuthContext<'_>, sent: Option<&str>) -> Result<(), OssError> {
    match (ctx.credentials.security_token(), sent) {
        (None, None) => Ok(()),
        (Some(want), Some(got)) if want == got => Ok(()),
        (Some(_), None) => Err(access_denied(
            "These credentials are temporary: the request must carry the security token.",
        )),
        _ => Err(OssError::new(
            403,
            "InvalidSecurityToken",
            "The security token you provided is invalid.",
        )),
    }
}

fn check_skew(ctx: &AuthContext<'_>, t: u64) -> Result<(), OssError> {
    if t.abs_diff(ctx.now) > ctx.max_skew {
        return Err(OssError::new(
            403,
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
        )
        .with(
            "MaxAllowedSkewMilliseconds",
            (ctx.max_skew * 1000).to_string(),
        ));
    }
    Ok(())
}

fn mismatch(string_to_sign: &str, canonical_request: &str, id: &str) -> OssError {
    let mut e = OssError::new(
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    )
    .with("OSSAccessKeyId", id)
    .with("StringToSign", string_to_sign);
    if !canonical_request.is_empty() {
        e = e.with("CanonicalRequest", canonical_request);
    }
    e
}

/// Verifies the request's signature (any of the four forms); `Err` is the OSS error to send.
pub(crate) fn verify(
    method: &str,
    query: &[(String, String)],
    headers: &[(String, String)],
    ctx: &AuthContext<'_>,
) -> Result<(), OssError> {
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let query: Vec<(&str, &str)> = query
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let req = Request {
        method,
        bucket: ctx.bucket,
        key: ctx.key,
        query: &query,
        headers: &headers,
    };
    if let Some(auth) = req.header("authorization") {
        if let Some(rest) = auth.strip_prefix("OSS4-HMAC-SHA256 ") {
            return verify_v4_header(&req, rest, ctx);
        }
        if let Some(rest) = auth.strip_prefix("OSS ") {
            return verify_v1_header(&req, rest, ctx);
        }
        return Err(OssError::invalid_argument(
            "Authorization header is neither OSS4-HMAC-SHA256 nor OSS (V1).",
        ));
    }
    if req.query_param("x-oss-signature-version").is_some() {
        return verify_v4_query(&req, ctx);
    }
    if req.query_param("Signature").is_some() {
        return verify_v1_query(&req, ctx);
    }
    Err(access_denied(
        "Anonymous access is forbidden for this operation: sign the request.",
    ))
}

/// Splits `Credential=AK/date/region/product/aliyun_v4_request`.
fn parse_credential(cred: &str) -> Result<(&str, &str, &str, &str), OssError> {
    let parts: Vec<&str> = cred.split('/').collect();
    match parts.as_slice() {
        [ak, date, region, product, v4::REQUEST_TYPE] => Ok((ak, date, region, product)),
        _ => Err(OssError::invalid_argument(format!(
            "Invalid credential in request: {cred}"
        ))),
    }
}

/// The signing time of a V4 request: the text that goes into the string to sign and the
/// Unix time it stands for.
struct SignTime<'a> {
    text: &'a str,
    unix: u64,
}

fn verify_v4_common(
    req: &Request<'_>,
    ctx: &AuthContext<'_>,
    credential: &str,
    time: &SignTime<'_>,
    additional: &str,
    signature: &str,
) -> Result<(), OssError> {
    let datetime = time.text;
    let (ak, date, region, product) = parse_credential(credential)?;
    check_access_key(ctx, ak)?;
    // The scope day is the UTC day of the signing time, whichever header carried it.
    let day = sign::format_iso8601_basic(time.unix).unwrap_or_default();
    if day.get(..8) != Some(date) {
        return Err(OssError::invalid_argument(
            "The date in the credential scope differs from the signing date (x-oss-date or Date).",
        ));
    }
    let additional: Vec<String> = additional
        .split(';')
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let canonical = v4::canonical_request(req, &additional);
    let string_to_sign =
        v4::string_to_sign(datetime, &v4::scope(date, region, product), &canonical);
    let key = v4::signing_key(ctx.credentials.access_key_secret(), date, region, product);
    if v4::signature(&key, &string_to_sign) != signature {
        return Err(mismatch(&string_to_sign, &canonical, ak));
    }
    Ok(())
}

fn verify_v4_header(
    req: &Request<'_>,
    fields: &str,
    ctx: &AuthContext<'_>,
) -> Result<(), OssError> {
    let (mut credential, mut additional, mut signature) = (None, "", None);
    for field in fields.split(',').map(str::trim) {
        if let Some(v) = field.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = field.strip_prefix("AdditionalHeaders=") {
            additional = v;
        } else if let Some(v) = field.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let (Some(credential), Some(signature)) = (credential, signature) else {
        return Err(OssError::invalid_argument(
            "Authorization lacks Credential or Signature.",
        ));
    };
    let time = v4_header_time(req)?;
    check_skew(ctx, time.unix)?;
    check_token(ctx, req.header(sign::HEADER_SECURITY_TOKEN))?;
    verify_v4_common(req, ctx, credential, &time, additional, signature)
}

/// `x-oss-date` (ISO 8601 basic) when present; otherwise the RFC 1123 `Date`, which Go SDK v1
/// signs alone: its string to sign carries the `Date` text verbatim and its scope the UTC day
/// of that time (and `x-oss-date`, absent, is not among the canonical headers).
fn v4_header_time<'a>(req: &Request<'a>) -> Result<SignTime<'a>, OssError> {
    if let Some(text) = req.header(sign::HEADER_OSS_DATE) {
        let unix = sign::parse_iso8601_basic(text).ok_or_else(|| {
            OssError::invalid_argument("x-oss-date must look like 20231216T162057Z.")
        })?;
        return Ok(SignTime { text, unix });
    }
    let text = req
        .header("date")
        .ok_or_else(|| access_denied("V4 requests must carry x-oss-date or an RFC 1123 Date."))?;
    let unix = sign::parse_rfc1123(text).ok_or_else(|| {
        access_denied(
            "Date must be RFC 1123 (Wed, 28 Dec 2022 10:27:41 GMT) when x-oss-date is absent.",
        )
    })?;
    Ok(SignTime { text, unix })
}

fn verify_v4_query(req: &Request<'_>, ctx: &AuthContext<'_>) -> Result<(), OssError> {
    let param = |n: &str| {
        req.query_param(n)
            .ok_or_else(|| OssError::invalid_argument(format!("Presigned V4 URL lacks {n}.")))
    };
    let credential = param("x-oss-credential")?;
    let datetime = param("x-oss-date")?;
    let signature = param("x-oss-signature")?;
    let expires: u64 = param("x-oss-expires")?
        .parse()
        .map_err(|_| OssError::invalid_argument("x-oss-expires must be a number of seconds."))?;
    let t = sign::parse_iso8601_basic(datetime)
        .ok_or_else(|| OssError::invalid_argument("x-oss-date must look like 20231216T162057Z."))?;
    if t > ctx.now + ctx.max_skew {
        return Err(access_denied(
            "The presigned URL's x-oss-date is in the future.",
        ));
    }
    if ctx.now > t + expires {
        return Err(
            access_denied("Request has expired.").with("Expires", (t + expires).to_string())
        );
    }
    check_token(ctx, req.query_param("x-oss-security-token"))?;
    let time = SignTime {
        text: datetime,
        unix: t,
    };
    let additional = req.query_param("x-oss-additional-headers").unwrap_or("");
    let query: Vec<(&str, &str)> = req
        .query
        .iter()
        .filter(|(k, _)| *k != "x-oss-signature")
        .copied()
        .collect();
    let signed = Request {
        query: &query,
        ..*req
    };
    verify_v4_common(&signed, ctx, credential, &time, additional, signature)
}

fn verify_v1(
    req: &Request<'_>,
    ctx: &AuthContext<'_>,
    ak: &str,
    date: &str,
    signature: &str,
) -> Result<(), OssError> {
    check_access_key(ctx, ak)?;
    let string_to_sign = v1::string_to_sign(req, date, V1_EXTRA_SUB_RESOURCES);
    if v1::signature(ctx.credentials.access_key_secret(), &string_to_sign) != signature {
        return Err(mismatch(&string_to_sign, "", ak));
    }
    Ok(())
}

fn verify_v1_header(
    req: &Request<'_>,
    fields: &str,
    ctx: &AuthContext<'_>,
) -> Result<(), OssError> {
    let (ak, signature) = fields.rsplit_once(':').ok_or_else(|| {
        OssError::invalid_argument("V1 Authorization must be OSS AccessKeyId:Signature.")
    })?;
    let date = req.header("date").unwrap_or("");
    let when = req.header(sign::HEADER_OSS_DATE).unwrap_or(date);
    let t = sign::parse_rfc1123(when)
        .ok_or_else(|| access_denied("V1 requests must carry an RFC 1123 Date."))?;
    check_skew(ctx, t)?;
    check_token(ctx, req.header(sign::HEADER_SECURITY_TOKEN))?;
    verify_v1(req, ctx, ak.trim(), date, signature.trim())
}

fn verify_v1_query(req: &Request<'_>, ctx: &AuthContext<'_>) -> Result<(), OssError> {
    let ak = req
        .query_param("OSSAccessKeyId")
        .ok_or_else(|| OssError::invalid_argument("Presigned V1 URL lacks OSSAccessKeyId."))?;
    let expires = req
        .query_param("Expires")
        .ok_or_else(|| OssError::invalid_argument("Presigned V1 URL lacks Expires."))?;
    let signature = req.query_param("Signature").unwrap_or("");
    let at: u64 = expires
        .parse()
        .map_err(|_| OssError::invalid_argument("Expires must be Unix seconds."))?;
    if ctx.now > at {
        return Err(access_denied("Request has expired.").with("Expires", expires));
    }
    check_token(ctx, req.query_param("security-token"))?;
    verify_v1(req, ctx, ak, expires, signature)
}

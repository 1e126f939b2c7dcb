//! The OSS operations: objects, listing, multipart uploads and the CSE rules of FORMAT.md §2.5.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use md5::{Digest, Md5};

use osscse_core::sign::uri_encode;

use crate::body::crc64_combine;
use crate::http::{HttpRequest, HttpResponse};
use crate::server::EtagPolicy;
use crate::xml::{OssError, elem};

const CSE_PREFIX: &str = "x-oss-meta-client-side-encryption-";
const CSE_KEY: &str = "x-oss-meta-client-side-encryption-key";
const CSE_START: &str = "x-oss-meta-client-side-encryption-start";
const CSE_PART_SIZE: &str = "x-oss-meta-client-side-encryption-part-size";
const CSE_DATA_SIZE: &str = "x-oss-meta-client-side-encryption-data-size";

/// One stored object.
#[derive(Debug, Clone)]
pub(crate) struct Object {
    /// Shared so GETs serve it without copying.
    pub(crate) data: Arc<Vec<u8>>,
    /// `Content-Type` and `x-oss-meta-*` headers, names lower-case.
    pub(crate) meta: Vec<(String, String)>,
    pub(crate) etag: String,
    pub(crate) crc64: u64,
    pub(crate) modified: u64,
}

#[derive(Debug, Clone)]
struct Part {
    /// The body, or nothing under `Config::discard_part_bodies`.
    data: Vec<u8>,
    /// The body's length.
    len: u64,
    etag: String,
    /// The 16 bytes the ETag is the hex of (the MD5, or CRC-64 and length).
    md5: [u8; 16],
    crc64: u64,
    modified: u64,
}

#[derive(Debug, Clone)]
struct Upload {
    bucket: String,
    key: String,
    meta: Vec<(String, String)>,
    /// The CSE headers from Init (lower-case names), empty for plain uploads.
    cse: Vec<(String, String)>,
    part_size: Option<u64>,
    data_size: Option<u64>,
    parts: BTreeMap<u32, Part>,
}

/// All buckets, objects and open uploads.
#[derive(Debug, Default)]
pub(crate) struct Store {
    buckets: BTreeMap<String, BTreeMap<String, Object>>,
    uploads: HashMap<String, Upload>,
    next_upload: AtomicU64,
}

/// Addressing and time of one request.
pub(crate) struct Target<'a> {
    pub(crate) bucket: Option<&'a str>,
    pub(crate) key: Option<&'a str>,
    pub(crate) now: u64,
    pub(crate) etag: EtagPolicy,
    /// Keep only the length, CRC-64 and ETag of UploadPart bodies.
    pub(crate) discard_part_bodies: bool,
}

/// The ETag of a received body, from the digests computed while it arrived (the MD5 is there
/// under [`EtagPolicy::Md5`]; computed here otherwise only if it is somehow missing).
fn body_etag(req: &HttpRequest, policy: EtagPolicy) -> ([u8; 16], String) {
    let d: [u8; 16] = match (policy, req.md5) {
        (EtagPolicy::Md5, Some(m)) => m,
        (EtagPolicy::Md5, None) => Md5::digest(&req.body).into(),
        (EtagPolicy::Crc64, _) => {
            let mut d = [0u8; 16];
            d[..8].copy_from_slice(&req.crc64.to_be_bytes());
            d[8..].copy_from_slice(&(req.body.len() as u64).to_be_bytes());
            d
        }
    };
    (d, format!("\"{}\"", hex::encode_upper(d)))
}

fn http_date(t: u64) -> String {
    osscse_core::sign::format_rfc1123(t).unwrap_or_default()
}

fn iso_date(t: u64) -> String {
    let s = osscse_core::sign::format_iso8601_basic(t).unwrap_or_default();
    if s.len() != 16 {
        return s;
    }
    format!(
        "{}-{}-{}T{}:{}:{}.000Z",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[9..11],
        &s[11..13],
        &s[13..15]
    )
}

fn xml_response(status: u16, body: String) -> HttpResponse {
    HttpResponse::new(status)
        .header("Content-Type", "application/xml")
        .body(format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{body}").into_bytes())
}

fn no_such_key(key: &str) -> OssError {
    OssError::new(404, "NoSuchKey", "The specified key does not exist.").with("Key", key)
}

fn no_such_upload(id: &str) -> OssError {
    OssError::new(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
        .with("UploadId", id)
}

/// `Content-Type` and `x-oss-meta-*` headers worth storing.
fn stored_meta(req: &HttpRequest) -> Vec<(String, String)> {
    let mut meta: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
        .filter(|(n, _)| {
            n.starts_with("x-oss-meta-")
                || matches!(
                    n.as_str(),
                    "content-type"
                        | "cache-control"
                        | "content-disposition"
                        | "content-encoding"
                        | "expires"
                )
        })
        .collect();
    if !meta.iter().any(|(n, _)| n == "content-type") {
        meta.push(("content-type".into(), "application/octet-stream".into()));
    }
    meta
}

fn parse_u64(name: &str, v: &str) -> Result<u64, OssError> {
    v.parse::<u64>()
        .map_err(|_| OssError::invalid_argument(format!("{name} must be an integer, got {v:?}.")))
}

fn object_headers(resp: &mut HttpResponse, obj: &Object) {
    for (n, v) in &obj.meta {
        resp.set_header(n, v.clone());
    }
    resp.set_header("ETag", obj.etag.clone());
    resp.set_header("x-oss-hash-crc64ecma", obj.crc64.to_string());
    resp.set_header("Last-Modified", http_date(obj.modified));
    resp.set_header("Accept-Ranges", "bytes");
    resp.set_header(
        "x-oss-object-type",
        if obj.etag.contains('-') {
            "Multipart"
        } else {
            "Normal"
        },
    );
    resp.set_header("x-oss-storage-class", "Standard");
}

/// A parsed `Range` header: `Ok(None)` means serve the whole object.
fn parse_range(spec: &str, size: u64, standard: bool) -> Result<Option<(u64, u64)>, OssError> {
    let invalid = || {
        OssError::new(416, "InvalidRange", "The requested range is not valid.")
            .with("ActualObjectSize", size.to_string())
    };
    let Some(r) = spec.trim().strip_prefix("bytes=") else {
        return if standard { Err(invalid()) } else { Ok(None) };
    };
    if r.contains(',') {
        return Ok(None); // multi-range: OSS answers the whole object
    }
    let Some((a, b)) = r.split_once('-') else {
        return if standard { Err(invalid()) } else { Ok(None) };
    };
    let num = |s: &str| s.trim().parse::<u64>().ok();
    let range = match (a.trim().is_empty(), b.trim().is_empty()) {
        (true, false) => match num(b) {
            Some(0) | None => None,
            Some(n) => Some((size.saturating_sub(n), size.saturating_sub(1))),
        },
        (false, true) => num(a).map(|a| (a, size.saturating_sub(1))),
        (false, false) => match (num(a), num(b)) {
            (Some(a), Some(b)) if a <= b => Some((a, b.min(size.saturating_sub(1)))),
            _ => None,
        },
        (true, true) => None,
    };
    match range {
        Some((a, _)) if a >= size => {
            if standard {
                Err(invalid())
            } else {
                Ok(None)
            }
        }
        Some(r) if size > 0 => Ok(Some(r)),
        _ => {
            if standard {
                Err(invalid())
            } else {
                Ok(None)
            }
        }
    }
}

impl Store {
    fn bucket(&mut self, name: &str) -> &mut BTreeMap<String, Object> {
        self.buckets.entry(name.to_string()).or_default()
    }

    /// A stored object, for tests and for the data directory.
    pub(crate) fn get(&self, bucket: &str, key: &str) -> Option<&Object> {
        self.buckets.get(bucket)?.get(key)
    }

    /// Puts an object directly (used when loading a data directory).
    pub(crate) fn insert(&mut self, bucket: &str, key: &str, obj: Object) {
        self.bucket(bucket).insert(key.to_string(), obj);
    }

    /// Dispatches one authenticated request.
    pub(crate) fn handle(
        &mut self,
        req: &mut HttpRequest,
        t: &Target<'_>,
    ) -> Result<HttpResponse, OssError> {
        let method = req.method.clone();
        let m = method.as_str();
        match (t.bucket, t.key) {
            (None, _) if m == "GET" => Ok(self.list_buckets()),
            (None, _) => Err(OssError::new(
                405,
                "MethodNotAllowed",
                "The specified method is not allowed against this resource.",
            )),
            (Some(b), None) => match m {
                "PUT" => {
                    self.bucket(b);
                    Ok(HttpResponse::new(200))
                }
                "GET" if req.has_query("bucketInfo") => Ok(self.bucket_info(b, t.now)),
                "GET" if req.has_query("uploads") => Ok(self.list_uploads(b)),
                "GET" => self.list_objects(b, req),
                "HEAD" => Ok(HttpResponse::new(200)),
                "DELETE" => {
                    self.buckets.remove(b);
                    Ok(HttpResponse::new(204))
                }
                "POST" if req.has_query("delete") => self.delete_multiple(b, req),
                _ => Err(OssError::new(
                    405,
                    "MethodNotAllowed",
                    "The specified method is not allowed against this resource.",
                )),
            },
            (Some(b), Some(k)) => match m {
                "PUT" if req.has_query("uploadId") => self.upload_part(req, t),
                "PUT" if req.header("x-oss-copy-source").is_some() => {
                    self.copy_object(b, k, req, t.now)
                }
                "PUT" => self.put_object(b, k, req, t),
                "GET" if req.has_query("uploadId") => self.list_parts(req),
                "GET" | "HEAD" => self.get_object(b, k, req, m == "HEAD"),
                "DELETE" if req.has_query("uploadId") => self.abort(req),
                "DELETE" => {
                    if let Some(old) = self.bucket(b).remove(k) {
                        crate::recycle::give(old.data);
                    }
                    Ok(HttpResponse::new(204))
                }
                "POST" if req.has_query("uploads") => self.initiate(b, k, req),
                "POST" if req.has_query("uploadId") => self.complete(b, k, req, t.now),
                _ => Err(OssError::new(
                    405,
                    "MethodNotAllowed",
                    "The specified method is not allowed against this resource.",
                )),
            },
        }
    }

    fn list_buckets(&self) -> HttpResponse {
        let mut s = String::from(
            "<ListAllMyBucketsResult><Owner><ID>osscse</ID><DisplayName>osscse</DisplayName></Owner><Buckets>",
        );
        for name in self.buckets.keys() {
            s.push_str("<Bucket>");
            elem(&mut s, "Name", name);
            elem(&mut s, "Location", "oss-cn-hangzhou");
            elem(&mut s, "Region", "cn-hangzhou");
            s.push_str("</Bucket>");
        }
        s.push_str("</Buckets></ListAllMyBucketsResult>");
        xml_response(200, s)
    }

    fn bucket_info(&mut self, b: &str, now: u64) -> HttpResponse {
        self.bucket(b);
        let mut s = String::from("<BucketInfo><Bucket>");
        elem(&mut s, "Name", b);
        elem(&mut s, "Location", "oss-cn-hangzhou");
        elem(&mut s, "Region", "cn-hangzhou");
        elem(&mut s, "CreationDate", iso_date(now));
        elem(&mut s, "StorageClass", "Standard");
        elem(&mut s, "ExtranetEndpoint", "127.0.0.1");
        elem(&mut s, "IntranetEndpoint", "127.0.0.1");
        s.push_str("<Owner><ID>osscse</ID><DisplayName>osscse</DisplayName></Owner><AccessControlList><Grant>private</Grant></AccessControlList>");
        s.push_str("</Bucket></BucketInfo>");
        xml_response(200, s)
    }

    fn list_objects(&mut self, b: &str, req: &HttpRequest) -> Result<HttpResponse, OssError> {
        let v2 = req.query_param("list-type") == Some("2");
        let prefix = req.query_param("prefix").unwrap_or("");
        let delimiter = req.query_param("delimiter").unwrap_or("");
        let max_keys = match req.query_param("max-keys") {
            Some(v) => parse_u64("max-keys", v)?.clamp(1, 1000) as usize,
            None => 100,
        };
        let start = if v2 {
            req.query_param("continuation-token")
                .or(req.query_param("start-after"))
                .unwrap_or("")
        } else {
            req.query_param("marker").unwrap_or("")
        };
        let objs = self.bucket(b);
        let mut contents = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        let mut next = None;
        // The last key consumed, returned or folded into a common prefix: the next page's marker.
        let mut last: Option<&str> = None;
        let range = (
            core::ops::Bound::Excluded(start),
            core::ops::Bound::Unbounded,
        );
        for (k, o) in objs.range::<str, _>(range) {
            if !k.starts_with(prefix) {
                continue;
            }
            let folded = if delimiter.is_empty() {
                None
            } else {
                k[prefix.len()..]
                    .find(delimiter)
                    .map(|i| k[..prefix.len() + i + delimiter.len()].to_string())
            };
            if folded.is_some() && folded.as_ref() == prefixes.last() {
                last = Some(k);
                continue;
            }
            if contents.len() + prefixes.len() >= max_keys {
                next = last.map(str::to_string);
                break;
            }
            match folded {
                Some(p) => prefixes.push(p),
                None => contents.push((k, o)),
            }
            last = Some(k);
        }
        // With `encoding-type=url` names are percent-encoded (keys may hold bytes XML cannot).
        let url = req.query_param("encoding-type") == Some("url");
        let enc = |v: &str| {
            if url {
                uri_encode(v, true)
            } else {
                v.to_string()
            }
        };
        let mut s = String::from("<ListBucketResult>");
        elem(&mut s, "Name", b);
        elem(&mut s, "Prefix", enc(prefix));
        elem(&mut s, "MaxKeys", max_keys);
        elem(&mut s, "Delimiter", enc(delimiter));
        if url {
            elem(&mut s, "EncodingType", "url");
        }
        elem(&mut s, "IsTruncated", next.is_some());
        if v2 {
            if let Some(t) = req.query_param("continuation-token") {
                elem(&mut s, "ContinuationToken", enc(t));
            }
            if let Some(n) = &next {
                elem(&mut s, "NextContinuationToken", enc(n));
            }
            elem(&mut s, "KeyCount", contents.len() + prefixes.len());
        } else {
            elem(&mut s, "Marker", enc(start));
            if let Some(n) = &next {
                elem(&mut s, "NextMarker", enc(n));
            }
        }
        for (k, o) in &contents {
            s.push_str("<Contents>");
            elem(&mut s, "Key", enc(k));
            elem(&mut s, "LastModified", iso_date(o.modified));
            elem(&mut s, "ETag", &o.etag);
            elem(
                &mut s,
                "Type",
                if o.etag.contains('-') {
                    "Multipart"
                } else {
                    "Normal"
                },
            );
            elem(&mut s, "Size", o.data.len());
            elem(&mut s, "StorageClass", "Standard");
            s.push_str("</Contents>");
        }
        for p in &prefixes {
            s.push_str("<CommonPrefixes>");
            elem(&mut s, "Prefix", enc(p));
            s.push_str("</CommonPrefixes>");
        }
        s.push_str("</ListBucketResult>");
        Ok(xml_response(200, s))
    }

    fn delete_multiple(&mut self, b: &str, req: &HttpRequest) -> Result<HttpResponse, OssError> {
        let body = String::from_utf8_lossy(&req.body);
        let doc = crate::xml::parse(&body)?;
        let keys: Vec<String> = doc
            .children_named("Object")
            .filter_map(|o| o.text_of("Key"))
            .map(str::to_string)
            .collect();
        let objs = self.bucket(b);
        let mut s = String::from("<DeleteResult>");
        for k in keys {
            objs.remove(&k);
            s.push_str("<Deleted>");
            elem(&mut s, "Key", k);
            s.push_str("</Deleted>");
        }
        s.push_str("</DeleteResult>");
        Ok(xml_response(200, s))
    }

    fn put_object(
        &mut self,
        b: &str,
        k: &str,
        req: &mut HttpRequest,
        t: &Target<'_>,
    ) -> Result<HttpResponse, OssError> {
        let meta = stored_meta(req);
        if meta.iter().any(|(n, _)| n.starts_with(CSE_PREFIX))
            && !meta.iter().any(|(n, _)| n == CSE_KEY)
        {
            return Err(OssError::invalid_argument(
                "client-side encryption: x-oss-meta-client-side-encryption-key is required (EC 0005-00000401).",
            ));
        }
        let (_, etag) = body_etag(req, t.etag);
        let obj = Object {
            crc64: req.crc64,
            data: Arc::new(core::mem::take(&mut req.body)),
            meta,
            etag: etag.clone(),
            modified: t.now,
        };
        let crc = obj.crc64;
        if let Some(old) = self.bucket(b).insert(k.to_string(), obj) {
            crate::recycle::give(old.data);
        }
        Ok(HttpResponse::new(200)
            .header("ETag", etag)
            .header("x-oss-hash-crc64ecma", crc.to_string()))
    }

    fn copy_object(
        &mut self,
        b: &str,
        k: &str,
        req: &HttpRequest,
        now: u64,
    ) -> Result<HttpResponse, OssError> {
        let source = crate::http::percent_decode(req.header("x-oss-copy-source").unwrap_or(""));
        let source = source.strip_prefix('/').unwrap_or(&source);
        let (sb, sk) = source
            .split_once('/')
            .ok_or_else(|| OssError::invalid_argument("x-oss-copy-source must be /bucket/key."))?;
        let src = self.get(sb, sk).cloned().ok_or_else(|| no_such_key(sk))?;
        let replace = req
            .header("x-oss-metadata-directive")
            .is_some_and(|d| d.eq_ignore_ascii_case("REPLACE"));
        let mut meta = if replace {
            stored_meta(req)
        } else {
            src.meta.clone()
        };
        if replace {
            // CSE metadata is protected: it may be repeated unchanged, never altered or dropped.
            let src_cse: Vec<_> = src
                .meta
                .iter()
                .filter(|(n, _)| n.starts_with(CSE_PREFIX))
                .collect();
            for (n, v) in meta.iter().filter(|(n, _)| n.starts_with(CSE_PREFIX)) {
                if !src_cse.iter().any(|(sn, sv)| sn == n && sv == v) {
                    return Err(OssError::invalid_argument(format!(
                        "client-side encryption metadata cannot be changed by CopyObject ({n})."
                    )));
                }
            }
            meta.retain(|(n, _)| !n.starts_with(CSE_PREFIX));
            meta.extend(src_cse.into_iter().cloned());
        }
        let obj = Object {
            meta,
            modified: now,
            ..src
        };
        let mut s = String::from("<CopyObjectResult>");
        elem(&mut s, "ETag", &obj.etag);
        elem(&mut s, "LastModified", iso_date(now));
        s.push_str("</CopyObjectResult>");
        let crc = obj.crc64;
        self.bucket(b).insert(k.to_string(), obj);
        Ok(xml_response(200, s).header("x-oss-hash-crc64ecma", crc.to_string()))
    }

    fn get_object(
        &mut self,
        b: &str,
        k: &str,
        req: &HttpRequest,
        head: bool,
    ) -> Result<HttpResponse, OssError> {
        let obj = self.get(b, k).ok_or_else(|| no_such_key(k))?;
        // As OSS: If-Match answers 412 PreconditionFailed unless the ETag matches.
        if let Some(want) = req.header("if-match") {
            let bare = |e: &str| e.trim().trim_matches('"').to_ascii_uppercase();
            if bare(want) != bare(&obj.etag) {
                return Err(OssError::new(
                    412,
                    "PreconditionFailed",
                    "At least one of the pre-conditions you specified did not hold.",
                )
                .with("Condition", "If-Match"));
            }
        }
        let size = obj.data.len() as u64;
        let standard = req
            .header("x-oss-range-behavior")
            .is_some_and(|v| v.eq_ignore_ascii_case("standard"));
        let range = match req.header("range") {
            Some(spec) if !head => parse_range(spec, size, standard)?,
            _ => None,
        };
        let mut resp = match range {
            Some((a, z)) => HttpResponse::new(206)
                .header("Content-Range", format!("bytes {a}-{z}/{size}"))
                .shared_body(Arc::clone(&obj.data), a as usize..z as usize + 1),
            None => HttpResponse::new(200).shared_body(Arc::clone(&obj.data), 0..obj.data.len()),
        };
        object_headers(&mut resp, obj);
        resp.head_only = head;
        Ok(resp)
    }

    fn initiate(&mut self, b: &str, k: &str, req: &HttpRequest) -> Result<HttpResponse, OssError> {
        let meta = stored_meta(req);
        let cse: Vec<(String, String)> = meta
            .iter()
            .filter(|(n, _)| n.starts_with(CSE_PREFIX))
            .cloned()
            .collect();
        let (mut part_size, mut data_size) = (None, None);
        if !cse.is_empty() {
            let get = |name: &str| cse.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
            if get(CSE_KEY).is_none() {
                return Err(OssError::invalid_argument(
                    "client-side encryption: x-oss-meta-client-side-encryption-key is required on InitiateMultipartUpload (EC 0005-00000401).",
                ));
            }
            let ps = get(CSE_PART_SIZE).ok_or_else(|| {
                OssError::invalid_argument("client-side encryption: part-size is required on InitiateMultipartUpload (EC 0005-00000407).")
            })?;
            let ps = parse_u64("client-side-encryption-part-size", ps)?;
            if ps == 0 || ps % 16 != 0 {
                return Err(OssError::invalid_argument(
                    "client-side encryption: part-size must be a positive multiple of 16.",
                ));
            }
            part_size = Some(ps);
            data_size = get(CSE_DATA_SIZE)
                .map(|v| parse_u64("client-side-encryption-data-size", v))
                .transpose()?;
        }
        let id = format!(
            "{:032X}",
            self.next_upload.fetch_add(1, Ordering::Relaxed) + 0x05CE_0000_0000
        );
        self.uploads.insert(
            id.clone(),
            Upload {
                bucket: b.into(),
                key: k.into(),
                meta,
                cse,
                part_size,
                data_size,
                parts: BTreeMap::new(),
            },
        );
        let mut s = String::from("<InitiateMultipartUploadResult>");
        elem(&mut s, "Bucket", b);
        elem(&mut s, "Key", k);
        elem(&mut s, "UploadId", &id);
        s.push_str("</InitiateMultipartUploadResult>");
        Ok(xml_response(200, s))
    }

    fn upload(&mut self, req: &HttpRequest) -> Result<(String, &mut Upload), OssError> {
        let id = req.query_param("uploadId").unwrap_or("").to_string();
        match self.uploads.get_mut(&id) {
            Some(u) => Ok((id, u)),
            None => Err(no_such_upload(&id)),
        }
    }

    fn upload_part(
        &mut self,
        req: &mut HttpRequest,
        t: &Target<'_>,
    ) -> Result<HttpResponse, OssError> {
        if req.header("x-oss-copy-source").is_some() {
            return Err(OssError::new(
                400,
                "NotImplemented",
                "UploadPartCopy is not supported by the test server.",
            ));
        }
        let number: u32 = req
            .query_param("partNumber")
            .and_then(|v| v.parse().ok())
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| OssError::invalid_argument("partNumber must be between 1 and 10000."))?;
        let (_, up) = self.upload(req)?;
        let sent: Vec<(String, String)> = stored_meta(req)
            .into_iter()
            .filter(|(n, _)| n.starts_with(CSE_PREFIX))
            .collect();
        if !sent.is_empty() {
            let sent_get = |name: &str| {
                sent.iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
            };
            let init_get = |name: &str| {
                up.cse
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.as_str())
            };
            if up.cse.is_empty() {
                return Err(OssError::invalid_argument(
                    "client-side encryption headers on a part of a plain multipart upload.",
                ));
            }
            let ps = sent_get(CSE_PART_SIZE).ok_or_else(|| {
                OssError::invalid_argument("client-side encryption: part-size is required on UploadPart (EC 0005-00000407).")
            })?;
            if Some(parse_u64("client-side-encryption-part-size", ps)?) != up.part_size {
                return Err(OssError::invalid_argument(
                    "client-side encryption: part-size differs from InitiateMultipartUpload.",
                ));
            }
            if let Some(ds) = sent_get(CSE_DATA_SIZE) {
                parse_u64("client-side-encryption-data-size", ds)?;
            }
            if sent_get(CSE_START) != init_get(CSE_START) {
                return Err(OssError::invalid_argument(
                    "client-side encryption: the start value on UploadPart must be identical to InitiateMultipartUpload (EC 0005-00000413).",
                ));
            }
            if sent_get(CSE_KEY) != init_get(CSE_KEY) {
                return Err(OssError::invalid_argument(
                    "client-side encryption: the key on UploadPart differs from InitiateMultipartUpload.",
                ));
            }
        }
        if let Some(ps) = up.part_size
            && req.body.len() as u64 > ps
        {
            return Err(OssError::invalid_argument(format!(
                "client-side encryption: part {number} has {} bytes, more than part-size {ps}.",
                req.body.len()
            )));
        }
        let (md5, etag) = body_etag(req, t.etag);
        let crc = req.crc64;
        let len = req.body.len() as u64;
        let data = core::mem::take(&mut req.body);
        up.parts.insert(
            number,
            Part {
                data: if t.discard_part_bodies {
                    crate::recycle::give_vec(data);
                    Vec::new()
                } else {
                    data
                },
                len,
                etag: etag.clone(),
                md5,
                crc64: crc,
                modified: t.now,
            },
        );
        Ok(HttpResponse::new(200)
            .header("ETag", etag)
            .header("x-oss-hash-crc64ecma", crc.to_string()))
    }

    fn complete(
        &mut self,
        b: &str,
        k: &str,
        req: &HttpRequest,
        now: u64,
    ) -> Result<HttpResponse, OssError> {
        let body = String::from_utf8_lossy(&req.body).into_owned();
        let (id, up) = self.upload(req)?;
        if up.bucket != b || up.key != k {
            return Err(no_such_upload(&id));
        }
        let mut listed: Vec<(u32, String)> = Vec::new();
        if req
            .header("x-oss-complete-all")
            .is_some_and(|v| v.eq_ignore_ascii_case("yes"))
        {
            listed = up.parts.iter().map(|(n, p)| (*n, p.etag.clone())).collect();
        } else {
            let doc = crate::xml::parse(&body)?;
            for part in doc.children_named("Part") {
                let n = part
                    .text_of("PartNumber")
                    .and_then(|n| n.parse::<u32>().ok());
                match (n, part.text_of("ETag")) {
                    (Some(n), Some(e)) => listed.push((n, e.to_string())),
                    _ => {
                        return Err(OssError::new(
                            400,
                            "MalformedXML",
                            "The XML you provided was not well-formed.",
                        ));
                    }
                }
            }
        }
        if listed.is_empty() {
            return Err(OssError::new(
                400,
                "MalformedXML",
                "CompleteMultipartUpload lists no parts.",
            ));
        }
        if listed.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(OssError::new(
                400,
                "InvalidPartOrder",
                "The list of parts was not in ascending order.",
            ));
        }
        let mut parts = Vec::new();
        for (n, etag) in &listed {
            let p = up.parts.get(n).filter(|p| {
                p.etag
                    .trim_matches('"')
                    .eq_ignore_ascii_case(etag.trim_matches('"'))
            });
            parts.push(p.ok_or_else(|| {
                OssError::new(400, "InvalidPart", "One or more of the specified parts could not be found or the specified entity tag might not have matched the part's entity tag.")
                    .with("PartNumber", n.to_string())
            })?);
        }
        if let Some(ps) = up.part_size {
            if let Some((last, rest)) = parts.split_last()
                && (rest.iter().any(|p| p.len != ps) || last.len > ps)
            {
                return Err(OssError::new(
                    400,
                    "InvalidPart",
                    format!(
                        "client-side encryption: every part but the last must be exactly part-size ({ps}) bytes."
                    ),
                ));
            }
            if let Some(ds) = up.data_size
                && parts.len() as u64 > ds.div_ceil(ps).max(1)
            {
                return Err(OssError::invalid_argument(
                    "client-side encryption: more parts than data-size / part-size allows (EC 0005-00000411).",
                ));
            }
        }
        let total: usize = parts.iter().map(|p| p.data.len()).sum();
        let mut data = crate::recycle::take(total);
        let mut md5s = Vec::new();
        let mut crc = 0u64;
        let mut at = 0;
        for p in &parts {
            data[at..at + p.data.len()].copy_from_slice(&p.data);
            at += p.data.len();
            md5s.extend_from_slice(&p.md5);
            crc = crc64_combine(crc, p.crc64, p.len);
        }
        let etag = format!(
            "\"{}-{}\"",
            hex::encode_upper(Md5::digest(&md5s)),
            parts.len()
        );
        let meta = up.meta.clone();
        if let Some(done) = self.uploads.remove(&id) {
            for part in done.parts.into_values() {
                crate::recycle::give_vec(part.data);
            }
        }
        let replaced = self.bucket(b).insert(
            k.to_string(),
            Object {
                data: Arc::new(data),
                meta,
                etag: etag.clone(),
                crc64: crc,
                modified: now,
            },
        );
        if let Some(old) = replaced {
            crate::recycle::give(old.data);
        }
        let mut s = String::from("<CompleteMultipartUploadResult>");
        elem(&mut s, "Location", format!("http://127.0.0.1/{b}/{k}"));
        elem(&mut s, "Bucket", b);
        elem(&mut s, "Key", k);
        elem(&mut s, "ETag", &etag);
        s.push_str("</CompleteMultipartUploadResult>");
        Ok(xml_response(200, s).header("x-oss-hash-crc64ecma", crc.to_string()))
    }

    fn abort(&mut self, req: &HttpRequest) -> Result<HttpResponse, OssError> {
        let (id, _) = self.upload(req)?;
        self.uploads.remove(&id);
        Ok(HttpResponse::new(204))
    }

    fn list_parts(&mut self, req: &HttpRequest) -> Result<HttpResponse, OssError> {
        let (id, up) = self.upload(req)?;
        let marker: u32 = req
            .query_param("part-number-marker")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let max: usize = req
            .query_param("max-parts")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1000)
            .clamp(1, 1000);
        let mut s = String::from("<ListPartsResult>");
        elem(&mut s, "Bucket", &up.bucket);
        elem(&mut s, "Key", &up.key);
        elem(&mut s, "UploadId", &id);
        elem(&mut s, "PartNumberMarker", marker);
        let parts: Vec<_> = up.parts.range(marker + 1..).collect();
        let truncated = parts.len() > max;
        if let Some((n, _)) = parts.get(max.min(parts.len()).saturating_sub(1)) {
            elem(&mut s, "NextPartNumberMarker", n);
        }
        elem(&mut s, "MaxParts", max);
        elem(&mut s, "IsTruncated", truncated);
        let get = |name: &str| {
            up.cse
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        if !up.cse.is_empty() {
            for (tag, header) in [
                ("ClientEncryptionKey", CSE_KEY),
                ("ClientEncryptionStart", CSE_START),
                (
                    "ClientEncryptionCekAlg",
                    "x-oss-meta-client-side-encryption-cek-alg",
                ),
                (
                    "ClientEncryptionWrapAlg",
                    "x-oss-meta-client-side-encryption-wrap-alg",
                ),
                ("ClientEncryptionDataSize", CSE_DATA_SIZE),
                ("ClientEncryptionPartSize", CSE_PART_SIZE),
            ] {
                if let Some(v) = get(header) {
                    elem(&mut s, tag, v);
                }
            }
        }
        for (n, p) in parts.into_iter().take(max) {
            s.push_str("<Part>");
            elem(&mut s, "PartNumber", n);
            elem(&mut s, "LastModified", iso_date(p.modified));
            elem(&mut s, "ETag", &p.etag);
            elem(&mut s, "HashCrc64ecma", p.crc64);
            elem(&mut s, "Size", p.len);
            s.push_str("</Part>");
        }
        s.push_str("</ListPartsResult>");
        Ok(xml_response(200, s))
    }

    fn list_uploads(&mut self, b: &str) -> HttpResponse {
        let mut s = String::from("<ListMultipartUploadsResult>");
        elem(&mut s, "Bucket", b);
        elem(&mut s, "IsTruncated", false);
        for (id, u) in self.uploads.iter().filter(|(_, u)| u.bucket == b) {
            s.push_str("<Upload>");
            elem(&mut s, "Key", &u.key);
            elem(&mut s, "UploadId", id);
            s.push_str("</Upload>");
        }
        s.push_str("</ListMultipartUploadsResult>");
        xml_response(200, s)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100, true).unwrap(), Some((0, 9)));
        assert_eq!(
            parse_range("bytes=90-200", 100, true).unwrap(),
            Some((90, 99))
        );
        assert_eq!(parse_range("bytes=-10", 100, true).unwrap(), Some((90, 99)));
        assert_eq!(parse_range("bytes=-200", 100, true).unwrap(), Some((0, 99)));
        assert_eq!(parse_range("bytes=95-", 100, true).unwrap(), Some((95, 99)));
        assert_eq!(parse_range("bytes=100-", 100, false).unwrap(), None);
        assert_eq!(
            parse_range("bytes=100-", 100, true).unwrap_err().code,
            "InvalidRange"
        );
        assert_eq!(
            parse_range("bytes=9-3", 100, true).unwrap_err().code,
            "InvalidRange"
        );
        assert_eq!(parse_range("bytes=9-3", 100, false).unwrap(), None);
        assert_eq!(parse_range("items=1-2", 100, false).unwrap(), None);
        assert_eq!(parse_range("bytes=0-0", 0, true).unwrap_err().status, 416);
    }
}

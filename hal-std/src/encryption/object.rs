//! Whole-object calls: PutObject (bytes, replayable source, stream of known or unknown
//! length), GetObject (whole or any range), HeadObject, DeleteObject and ListObjectsV2.

use std::io::Read;

use osscse_core::content::{ByteRange, ContentMaterial, RangePlan};
use osscse_core::envelope::Envelope;
use osscse_core::stream::CtrReader;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::reader::{CtrAsyncReader, PlainReader};
use super::source::{EncryptedBuffer, EncryptedRegion, PlainSource};
use super::{
    EncryptionClient, GetObject, MAX_OBJECT_SIZE, MAX_PAGES, MAX_XML, PutResult, RANGE_BEHAVIOR,
};
use crate::client::{Body, Request, Response};
use crate::error::{Error, Result};
use crate::local::PutOptions;
use crate::object::{ObjectInfo, from_io};
use crate::xml;

impl EncryptionClient {
    async fn put_with<'a>(
        &self,
        bucket: &'a str,
        key: &'a str,
        envelope: &Envelope,
        body: Body<'a>,
    ) -> Result<PutResult> {
        let mut req = Request::new("PUT", Some(bucket), Some(key)).body(body);
        for (n, v) in envelope.headers() {
            req = req.header(n, &v);
        }
        req = req.header("content-type", "application/octet-stream");
        let resp = self.client.send(req).await?;
        let sent = resp.sent.unwrap_or_default();
        Ok(PutResult {
            etag: resp.header("etag").map(str::to_owned),
            crc64: sent.value(),
            size: sent.len(),
        })
    }

    /// Encrypts and uploads `len` bytes streamed from `source` (not retried once the body
    /// started: a stream cannot be replayed; use [`Self::put_source`] for retries, or
    /// [`Self::put_stream`] when the length is unknown).
    ///
    /// # Errors
    /// Transport, OSS, CRC-64 mismatch, short source.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        source: &mut (dyn AsyncRead + Send + Unpin),
        len: u64,
        opts: &PutOptions,
    ) -> Result<PutResult> {
        let (material, envelope) = self.new_envelope(opts, Some(len))?;
        let mut enc = CtrAsyncReader::new(source, material.keystream_at(0));
        self.put_with(
            bucket,
            key,
            &envelope,
            Body::Reader {
                len,
                reader: &mut enc,
            },
        )
        .await
    }

    /// As [`Self::put_object`] from a blocking reader (the blocking facade's path).
    pub(crate) async fn put_object_blocking_reader(
        &self,
        bucket: &str,
        key: &str,
        source: &mut (dyn Read + Send),
        len: u64,
        opts: &PutOptions,
    ) -> Result<PutResult> {
        let (material, envelope) = self.new_envelope(opts, Some(len))?;
        let mut enc = CtrReader::new(source, material.keystream_at(0));
        self.put_with(
            bucket,
            key,
            &envelope,
            Body::Once {
                len,
                reader: &mut enc,
            },
        )
        .await
    }

    /// Encrypts and uploads a stream of unknown length as a multipart upload in parts of
    /// `part_size` (rounded as [`Self::initiate_multipart`] needs); the part size is the
    /// only memory held per part. An upload that fails is aborted.
    ///
    /// # Errors
    /// Transport, OSS, CRC-64 mismatch, source read errors.
    pub async fn put_stream(
        &self,
        bucket: &str,
        key: &str,
        source: &mut (dyn AsyncRead + Send + Unpin),
        part_size: u64,
        opts: &PutOptions,
    ) -> Result<PutResult> {
        let part_size = part_size.max(100 * 1024).div_ceil(16) * 16;
        let ctx = self
            .initiate_multipart(bucket, key, 0, part_size, opts)
            .await?;
        let r = self.stream_parts(&ctx, source, part_size).await;
        if r.is_err() {
            let _ = self.abort_multipart(&ctx).await;
        }
        r
    }

    async fn stream_parts(
        &self,
        ctx: &super::MultipartContext,
        source: &mut (dyn AsyncRead + Send + Unpin),
        part_size: u64,
    ) -> Result<PutResult> {
        let mut parts = Vec::new();
        let mut offset = 0u64;
        let cap = usize::try_from(part_size).map_err(|_| Error::Config("part size".into()))?;
        for number in 1u32.. {
            let mut buf = Vec::with_capacity(cap);
            (&mut *source)
                .take(part_size)
                .read_to_end(&mut buf)
                .await
                .map_err(|e| Error::io("reading the upload source", e))?;
            if buf.is_empty() && number > 1 {
                break;
            }
            let region = EncryptedBuffer {
                data: &buf,
                material: &ctx.material,
                offset,
            };
            parts.push(self.send_part(ctx, number, Body::Replay(&region)).await?);
            offset += buf.len() as u64;
            if (buf.len() as u64) < part_size {
                break;
            }
        }
        self.complete_multipart(ctx, &parts).await
    }

    /// Encrypts and uploads a replayable source in one PutObject (retried with identical
    /// ciphertext).
    ///
    /// # Errors
    /// As [`Self::put_object`], plus [`Error::SourceChanged`].
    pub async fn put_source(
        &self,
        bucket: &str,
        key: &str,
        source: &dyn PlainSource,
        opts: &PutOptions,
    ) -> Result<PutResult> {
        let (material, envelope) = self.new_envelope(opts, Some(source.len()))?;
        let region = EncryptedRegion {
            source,
            material: &material,
            offset: 0,
            len: source.len(),
        };
        self.put_with(bucket, key, &envelope, Body::Replay(&region))
            .await
    }

    /// HEAD: size, CRC-64, ETag and the envelope.
    ///
    /// # Errors
    /// OSS errors (404 for a missing object), malformed envelope, an answer without a valid
    /// `Content-Length` (it is never taken as 0) or with a size beyond what OSS stores.
    pub async fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectInfo> {
        let resp = self
            .client
            .send(Request::new("HEAD", Some(bucket), Some(key)))
            .await?;
        let size = resp
            .content_length()
            .ok_or_else(|| Error::Protocol("HEAD answer without a valid Content-Length".into()))?;
        if size > MAX_OBJECT_SIZE {
            return Err(Error::Protocol(format!(
                "HEAD says the object has {size} bytes, more than OSS stores"
            )));
        }
        info_from(&resp, size)
    }

    /// GET the whole object or a range (`bytes=a-b`, `a-`, `-n`), decrypted. Whole objects are
    /// checked against `x-oss-hash-crc64ecma` and their length when the stream ends.
    ///
    /// # Errors
    /// OSS errors, key errors, an unsatisfiable range.
    pub async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<GetObject> {
        let Some(range) = range else {
            let resp = self
                .client
                .send(Request::new("GET", Some(bucket), Some(key)))
                .await?;
            let len = resp
                .content_length()
                .ok_or_else(|| Error::Protocol("GET answer without Content-Length".into()))?;
            let info = info_from(&resp, len)?;
            let material = self.open_material(&info.encryption).await?;
            let crc = resp.crc64();
            let reader = PlainReader::new(
                resp.into_stream(),
                material.as_ref(),
                0,
                0,
                len,
                crc,
                "download",
            );
            return Ok(GetObject {
                reader: Box::pin(reader),
                len,
                info,
                range: None,
            });
        };
        // The first byte must be absolute to align it: a suffix range needs the size first.
        let (first, last) = match range {
            ByteRange::Suffix { .. } => {
                let size = self.head_object(bucket, key).await?.size;
                let (f, l) = range.resolve(size)?;
                (f, Some(l))
            }
            ByteRange::Bounded { first, last } => (first, Some(last)),
            ByteRange::From { first } => (first, None),
        };
        let aligned = first - first % 16;
        let header = match last {
            Some(l) => format!("bytes={aligned}-{l}"),
            None => format!("bytes={aligned}-"),
        };
        let resp = self
            .client
            .send(
                Request::new("GET", Some(bucket), Some(key))
                    .header("range", &header)
                    .header(RANGE_BEHAVIOR.0, RANGE_BEHAVIOR.1),
            )
            .await?;
        if resp.status != 206 {
            return Err(Error::Protocol(format!(
                "asked for {header} but OSS answered {} without a range; the object was not decrypted",
                resp.status
            )));
        }
        let (cr_first, cr_last, total) = parse_content_range(resp.header("content-range"))
            .ok_or_else(|| Error::Protocol("206 answer without a valid Content-Range".into()))?;
        if cr_first != aligned || last.is_some_and(|l| cr_last > l) {
            return Err(Error::Protocol(format!(
                "asked for {header}, got bytes {cr_first}-{cr_last}"
            )));
        }
        let request_len = cr_last - cr_first + 1;
        let plan = RangePlan::new(first, cr_last)?;
        let info = info_from(&resp, total)?;
        let material = self.open_material(&info.encryption).await?;
        let reader = PlainReader::new(
            resp.into_stream(),
            material.as_ref(),
            aligned,
            plan.skip(),
            request_len,
            None,
            "ranged download",
        );
        Ok(GetObject {
            reader: Box::pin(reader),
            len: plan.len(),
            info,
            range: Some((first, cr_last)),
        })
    }

    /// Reads a whole object or range into memory.
    ///
    /// # Errors
    /// As [`Self::get_object`], plus verification errors.
    pub async fn get_object_bytes(
        &self,
        bucket: &str,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<Vec<u8>> {
        let mut obj = self.get_object(bucket, key, range).await?;
        let mut out = Vec::with_capacity(usize::try_from(obj.len).unwrap_or(0).min(1 << 30));
        obj.reader
            .read_to_end(&mut out)
            .await
            .map_err(|e| from_io("downloading", e))?;
        Ok(out)
    }

    /// Deletes an object (plain pass-through).
    ///
    /// # Errors
    /// OSS errors.
    pub async fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        self.client
            .send(Request::new("DELETE", Some(bucket), Some(key)))
            .await?;
        Ok(())
    }

    /// Lists objects under `prefix` (ListObjectsV2, all pages, at most 10,000 pages).
    ///
    /// # Errors
    /// OSS errors; [`Error::Protocol`] when the server keeps paging past the bound.
    pub async fn list_objects(&self, bucket: &str, prefix: &str) -> Result<Vec<xml::ObjectEntry>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut req = Request::new("GET", Some(bucket), None)
                .query("list-type", "2")
                .query("prefix", prefix);
            if let Some(t) = &token {
                req = req.query("continuation-token", t);
            }
            let text = self.client.send(req).await?.text(MAX_XML).await?;
            let page = xml::list_objects(&text).map_err(|e| Error::Protocol(e.to_string()))?;
            out.extend(page.objects);
            match page.next_token {
                Some(t) if Some(&t) != token.as_ref() => token = Some(t),
                _ => return Ok(out),
            }
        }
        Err(Error::Protocol(format!(
            "ListObjects kept paging past {MAX_PAGES} pages"
        )))
    }

    /// The content material of an object's envelope (for the transfer code).
    pub(crate) async fn material(&self, info: &ObjectInfo) -> Result<Option<ContentMaterial>> {
        self.open_material(&info.encryption).await
    }
}

/// The object info carried by an answer's headers.
pub(crate) fn info_from(resp: &Response, size: u64) -> Result<ObjectInfo> {
    let headers: Vec<(&str, &str)> = resp
        .headers
        .iter()
        .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v)))
        .collect();
    ObjectInfo::from_headers(
        size,
        resp.crc64(),
        resp.header("etag").map(str::to_owned),
        resp.header("last-modified").map(str::to_owned),
        headers.iter().copied(),
    )
}

/// Parses `bytes a-b/total` (total may be `*`, then `b+1` is used); `None` for anything
/// malformed, reversed, past the total or at the edge of `u64`.
pub(crate) fn parse_content_range(v: Option<&str>) -> Option<(u64, u64, u64)> {
    let rest = v?.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (a, b) = range.split_once('-')?;
    let (a, b): (u64, u64) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    if b < a {
        return None;
    }
    let end = b.checked_add(1)?;
    let total = if total.trim() == "*" {
        end
    } else {
        total.trim().parse().ok()?
    };
    (end <= total).then_some((a, b, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range() {
        assert_eq!(
            parse_content_range(Some("bytes 0-15/100")),
            Some((0, 15, 100))
        );
        assert_eq!(
            parse_content_range(Some("bytes 96-199/*")),
            Some((96, 199, 200))
        );
        assert_eq!(parse_content_range(Some("bytes 5-4/10")), None);
        assert_eq!(parse_content_range(Some("items 0-1/2")), None);
        assert_eq!(parse_content_range(None), None);
        // Defect 4: the end at u64::MAX overflowed (debug panic) before.
        assert_eq!(
            parse_content_range(Some("bytes 0-18446744073709551615/*")),
            None
        );
        assert_eq!(
            parse_content_range(Some("bytes 0-18446744073709551615/18446744073709551615")),
            None
        );
        assert_eq!(parse_content_range(Some("bytes 0-99/50")), None);
    }
}

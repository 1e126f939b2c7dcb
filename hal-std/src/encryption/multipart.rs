//! Multipart calls with the CSE context: Initiate, UploadPart, ListParts, Complete, Abort.

use osscse_core::content::MultipartPlan;
use osscse_core::envelope::Envelope;

use super::source::{EncryptedRegion, PlainSource};
use super::{EncryptionClient, MAX_PAGES, MAX_XML, MultipartContext, PutResult};
use crate::client::{Body, Request};
use crate::crc64;
use crate::error::{Error, Result};
use crate::local::PutOptions;
use crate::xml::{self, PartInfo};

impl EncryptionClient {
    /// Starts an encrypted multipart upload of `data_size` bytes (0 = unknown) in parts of
    /// `part_size`.
    ///
    /// # Errors
    /// Planning errors (part size not a multiple of 16, too small, too many parts), OSS errors.
    pub async fn initiate_multipart(
        &self,
        bucket: &str,
        key: &str,
        data_size: u64,
        part_size: u64,
        opts: &PutOptions,
    ) -> Result<MultipartContext> {
        let plan = MultipartPlan::new(data_size, part_size)?;
        let (material, mut envelope) = self.new_envelope(opts, None)?;
        envelope.data_size = (data_size > 0).then_some(data_size);
        envelope.part_size = Some(plan.part_size());
        let headers = envelope.headers();
        let mut req = Request::new("POST", Some(bucket), Some(key)).query("uploads", "");
        for (n, v) in &headers {
            req = req.header(n, v);
        }
        req = req.header("content-type", "application/octet-stream");
        let text = self.client.send(req).await?.text(MAX_XML).await?;
        let upload_id =
            xml::initiate_upload_id(&text).map_err(|e| Error::Protocol(e.to_string()))?;
        Ok(MultipartContext {
            bucket: bucket.into(),
            key: key.into(),
            upload_id,
            envelope,
            plan,
            headers,
            material,
        })
    }

    /// Rebuilds the context of an upload begun earlier from its envelope (needs a key that can
    /// unwrap it).
    ///
    /// # Errors
    /// Key errors, or an envelope without part size.
    pub fn resume_multipart(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        envelope: Envelope,
    ) -> Result<MultipartContext> {
        let part_size = envelope
            .part_size
            .ok_or_else(|| Error::Protocol("the upload's envelope has no part size".into()))?;
        let data_size = envelope.data_size.unwrap_or(0);
        let plan = MultipartPlan::new(data_size, part_size)?;
        let material = self.keys.open(&envelope)?;
        Ok(MultipartContext {
            bucket: bucket.into(),
            key: key.into(),
            upload_id: upload_id.into(),
            headers: envelope.headers(),
            envelope,
            plan,
            material,
        })
    }

    /// Encrypts and uploads part `number` of `source` (the whole object's plaintext), sending
    /// the context's envelope headers; retried with identical ciphertext.
    ///
    /// # Errors
    /// Part number out of range, a source of the wrong size, OSS, CRC-64 mismatch.
    pub async fn upload_part(
        &self,
        ctx: &MultipartContext,
        number: u32,
        source: &dyn PlainSource,
    ) -> Result<PartInfo> {
        if ctx.plan.data_size() != source.len() {
            return Err(Error::ShortSource {
                expected: ctx.plan.data_size(),
                actual: source.len(),
            });
        }
        let part = ctx.plan.part(number)?;
        let region = EncryptedRegion {
            source,
            material: &ctx.material,
            offset: part.offset,
            len: part.len,
        };
        self.send_part(ctx, number, Body::Replay(&region)).await
    }

    /// Sends one UploadPart with the context's headers.
    pub(crate) async fn send_part<'a>(
        &self,
        ctx: &'a MultipartContext,
        number: u32,
        body: Body<'a>,
    ) -> Result<PartInfo> {
        let mut req = Request::new("PUT", Some(&ctx.bucket), Some(&ctx.key))
            .query("partNumber", &number.to_string())
            .query("uploadId", &ctx.upload_id)
            .body(body);
        for (n, v) in &ctx.headers {
            req = req.header(n, v);
        }
        let resp = self.client.send(req).await?;
        let sent = resp.sent.unwrap_or_default();
        let etag = resp
            .header("etag")
            .map(str::to_owned)
            .ok_or_else(|| Error::Protocol("UploadPart answer without ETag".into()))?;
        Ok(PartInfo {
            part_number: number,
            etag,
            size: sent.len(),
            crc64: Some(sent.value()),
        })
    }

    /// The parts uploaded so far (at most 10,000 pages).
    ///
    /// # Errors
    /// OSS errors; [`Error::Protocol`] when the server keeps paging past the bound.
    pub async fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<PartInfo>> {
        let mut all = Vec::new();
        let mut marker: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut req = Request::new("GET", Some(bucket), Some(key)).query("uploadId", upload_id);
            if let Some(m) = &marker {
                req = req.query("part-number-marker", m);
            }
            let text = self.client.send(req).await?.text(MAX_XML).await?;
            let (parts, next) =
                xml::list_parts(&text).map_err(|e| Error::Protocol(e.to_string()))?;
            all.extend(parts);
            match next {
                Some(n) if Some(&n) != marker.as_ref() => marker = Some(n),
                _ => return Ok(all),
            }
        }
        Err(Error::Protocol(format!(
            "ListParts kept paging past {MAX_PAGES} pages"
        )))
    }

    /// Completes the upload; when every part has a CRC-64 the combined value is checked
    /// against the object CRC OSS reports.
    ///
    /// # Errors
    /// OSS errors, CRC-64 mismatch.
    pub async fn complete_multipart(
        &self,
        ctx: &MultipartContext,
        parts: &[PartInfo],
    ) -> Result<PutResult> {
        let mut parts = parts.to_vec();
        parts.sort_by_key(|p| p.part_number);
        let body = xml::complete_body(&parts);
        // A POST: the answer's CRC-64 is the object's, checked below against the parts'.
        let req = Request::new("POST", Some(&ctx.bucket), Some(&ctx.key))
            .query("uploadId", &ctx.upload_id)
            .body(Body::Bytes(body.as_bytes()))
            .header("content-type", "application/xml");
        let resp = self.client.send(req).await?;
        let combined = parts.iter().try_fold(0u64, |acc, p| {
            p.crc64.map(|c| crc64::combine(acc, c, p.size))
        });
        let size = parts.iter().map(|p| p.size).sum();
        if let (Some(client), Some(server)) = (combined, resp.crc64())
            && client != server
        {
            return Err(Error::CrcMismatch {
                what: "multipart object".into(),
                server,
                client,
            });
        }
        let etag = resp.header("etag").map(str::to_owned);
        let _ = resp.text(MAX_XML).await;
        Ok(PutResult {
            etag,
            crc64: combined.unwrap_or(0),
            size,
        })
    }

    /// Aborts the upload.
    ///
    /// # Errors
    /// OSS errors.
    pub async fn abort_multipart(&self, ctx: &MultipartContext) -> Result<()> {
        self.client
            .send(
                Request::new("DELETE", Some(&ctx.bucket), Some(&ctx.key))
                    .query("uploadId", &ctx.upload_id),
            )
            .await?;
        Ok(())
    }
}

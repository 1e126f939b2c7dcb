//! The stored bytes as they are (the ciphertext and its envelope headers, never decrypted):
//! what `cp` between stores and `rewrap` move, for OSS and the file store.

use std::io::{self, Read};
use std::time::{Duration, SystemTime};

use super::{FileStore, OssStore, RawObject};
use crate::client::{Body, Request};
use crate::error::Result;
use crate::object::{ObjectInfo, VerifyingReader};

impl OssStore {
    pub(super) fn raw_get(&self, key: &str, if_match: Option<&str>) -> Result<RawObject> {
        let mut req = Request::new("GET", Some(&self.bucket), Some(key));
        if let Some(etag) = if_match {
            req = req.header("If-Match", etag);
        }
        let resp = self.client.client().send(req)?;
        let size = resp.content_length().ok_or_else(|| {
            crate::Error::Protocol(format!("GET {key}: the answer has no Content-Length"))
        })?;
        let header = |n: &str| resp.header(n).map(str::to_owned);
        let headers: Vec<(&str, &str)> = resp
            .headers
            .iter()
            .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v)))
            .collect();
        let info = ObjectInfo::from_headers(
            size,
            resp.crc64(),
            header("etag"),
            header("last-modified"),
            headers.iter().copied(),
        )?;
        drop(headers);
        let reader = VerifyingReader::new(resp.into_reader(), size, info.crc64, "raw download");
        Ok(RawObject {
            reader: Box::new(reader),
            info,
        })
    }

    pub(super) fn raw_put(
        &self,
        key: &str,
        reader: &mut (dyn Read + Send),
        len: u64,
        meta: &[(String, String)],
    ) -> Result<u64> {
        // An object uploaded in parts goes back in the same parts: the envelope's part size
        // must describe the layout, and no PutObject takes more than 5 GiB.
        let part_size = meta
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(osscse_core::envelope::HEADER_PART_SIZE))
            .and_then(|(_, v)| v.trim().parse::<u64>().ok())
            .filter(|p| *p > 0);
        if let Some(part_size) = part_size.filter(|p| len > *p) {
            return self.put_raw_parts(key, reader, len, meta, part_size);
        }
        let mut req = Request::new("PUT", Some(&self.bucket), Some(key));
        for (n, v) in meta {
            req = req.header(n, v);
        }
        let resp = self
            .client
            .client()
            .send(req.body(Body::Once { len, reader }))?;
        resp.sent
            .map(|c| c.value())
            .ok_or_else(|| crate::Error::Protocol(format!("PUT {key}: no CRC-64 of the body sent")))
    }
}

impl OssStore {
    /// [`Store::put_raw`] as a multipart upload in parts of `part_size` (aborted on failure).
    fn put_raw_parts(
        &self,
        key: &str,
        reader: &mut (dyn Read + Send),
        len: u64,
        meta: &[(String, String)],
        part_size: u64,
    ) -> Result<u64> {
        let client = self.client.client();
        let bucket = Some(self.bucket.as_str());
        let mut init = Request::new("POST", bucket, Some(key)).query("uploads", "");
        for (n, v) in meta {
            init = init.header(n, v);
        }
        let body = client.send(init)?.text(64 * 1024)?;
        let upload_id = crate::xml::initiate_upload_id(&body)
            .map_err(|e| crate::Error::Protocol(format!("InitiateMultipartUpload: {e}")))?;
        let cse: Vec<&(String, String)> = meta
            .iter()
            .filter(|(n, _)| {
                n.to_ascii_lowercase()
                    .starts_with(osscse_core::envelope::HEADER_PREFIX)
            })
            .collect();
        let mut upload = || -> Result<u64> {
            let (mut parts, mut crc, mut sent) = (Vec::new(), 0u64, 0u64);
            for number in 1u32.. {
                if sent == len {
                    break;
                }
                let n = part_size.min(len - sent);
                let mut part = (&mut *reader).take(n);
                let mut req = Request::new("PUT", bucket, Some(key))
                    .query("partNumber", &number.to_string())
                    .query("uploadId", &upload_id);
                for (name, v) in &cse {
                    req = req.header(name, v);
                }
                let resp = client.send(req.body(Body::Once {
                    len: n,
                    reader: &mut part,
                }))?;
                let etag = resp.header("etag").map(str::to_owned).ok_or_else(|| {
                    crate::Error::Protocol("UploadPart answer without ETag".into())
                })?;
                let part_crc = resp.sent.map(|c| c.value()).unwrap_or_default();
                crc = crate::crc64::combine(crc, part_crc, n);
                parts.push(crate::xml::PartInfo {
                    part_number: number,
                    etag,
                    size: n,
                    crc64: Some(part_crc),
                });
                sent += n;
            }
            let mut rest = [0u8; 1];
            if reader
                .read(&mut rest)
                .map_err(|e| crate::object::from_io("reading the stored bytes", e))?
                != 0
            {
                return Err(crate::Error::ShortSource {
                    expected: len,
                    actual: len + 1,
                });
            }
            let xml = crate::xml::complete_body(&parts);
            // A POST: the answer's CRC-64 is the object's (checked here), not the XML's.
            let done = Request::new("POST", bucket, Some(key))
                .query("uploadId", &upload_id)
                .header("Content-Type", "application/xml")
                .body(Body::Bytes(xml.as_bytes()));
            let resp = client.send(done)?;
            match resp.crc64() {
                Some(server) if server != crc => Err(crate::Error::CrcMismatch {
                    what: format!("multipart copy of {key}"),
                    server,
                    client: crc,
                }),
                _ => Ok(crc),
            }
        };
        let result = upload();
        if result.is_err() {
            let abort = Request::new("DELETE", bucket, Some(key)).query("uploadId", &upload_id);
            let _ = client.send(abort);
        }
        result
    }
}

impl FileStore {
    pub(super) fn raw_get(&self, key: &str, _if_match: Option<&str>) -> Result<RawObject> {
        let info = self.store.head(key)?;
        let (data, _) = self.store.paths(key)?;
        let file = std::fs::File::open(&data)
            .map_err(|e| crate::Error::io(format!("opening {}", data.display()), e))?;
        let reader = VerifyingReader::new(file, info.size, info.crc64, "stored data");
        Ok(RawObject {
            reader: Box::new(reader),
            info,
        })
    }

    pub(super) fn raw_put(
        &self,
        key: &str,
        reader: &mut (dyn Read + Send),
        len: u64,
        meta: &[(String, String)],
    ) -> Result<u64> {
        use std::io::Write;
        let (data, sidecar_path) = self.store.paths(key)?;
        let dir = data.parent().unwrap_or(self.store.root()).to_path_buf();
        let io_err = |what: String| move |e| crate::Error::io(what, e);
        std::fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".osscse-put-")
            .tempfile_in(&dir)
            .map_err(io_err(format!("creating a file in {}", dir.display())))?;
        let mut out = crate::crc64::CrcWriter::new(io::BufWriter::new(tmp.as_file_mut()));
        let n = io::copy(&mut reader.take(len), &mut out)
            .map_err(|e| crate::object::from_io("copying the stored bytes", e))?;
        let crc = out.crc().value();
        out.into_inner()
            .into_inner()
            .map_err(|e| crate::Error::io(format!("writing {}", data.display()), e.into_error()))?;
        let mut rest = [0u8; 1];
        let more = reader
            .read(&mut rest)
            .map_err(|e| crate::object::from_io("copying the stored bytes", e))?;
        if n != len || more != 0 {
            return Err(crate::Error::ShortSource {
                expected: len,
                actual: n + more as u64,
            });
        }
        let sidecar = crate::local::Sidecar {
            version: 1,
            size: len,
            crc64ecma: crc.to_string(),
            headers: meta
                .iter()
                .filter(|(n, _)| n.to_ascii_lowercase().starts_with("x-oss-meta-"))
                .map(|(n, v)| (n.to_ascii_lowercase(), v.clone()))
                .collect(),
        };
        let json = serde_json::to_vec_pretty(&sidecar)
            .map_err(|e| crate::Error::Protocol(e.to_string()))?;
        let mut tmp_meta = tempfile::Builder::new()
            .prefix(".osscse-meta-")
            .tempfile_in(&dir)
            .map_err(io_err(format!("creating a file in {}", dir.display())))?;
        tmp_meta
            .write_all(&json)
            .and_then(|()| tmp_meta.as_file().sync_all())
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(io_err(format!("writing {}", sidecar_path.display())))?;
        // Data first, then the sidecar that names its size and CRC-64 (as LocalStore::put).
        tmp.persist(&data)
            .map_err(|e| crate::Error::io(format!("renaming into {}", data.display()), e.error))?;
        tmp_meta.persist(&sidecar_path).map_err(|e| {
            crate::Error::io(format!("renaming into {}", sidecar_path.display()), e.error)
        })?;
        Ok(crc)
    }
}

/// Parses OSS's ListObjects time, `2026-12-06T07:43:17.000Z`.
pub(super) fn parse_iso8601(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || !text.ends_with('Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let frac = match text.get(19..text.len() - 1)? {
        "" => 0,
        f => {
            let digits = f.strip_prefix('.')?;
            let ms = format!("{digits:0<9}");
            ms.get(..9)?.parse::<u32>().ok()?
        }
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    // Days from the civil date (proleptic Gregorian), as in Howard Hinnant's algorithm.
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days * 86_400 + h * 3600 + mi * 60 + s).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::new(secs, frac))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_times() {
        let t = |s| parse_iso8601(s).and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok());
        assert_eq!(t("1970-01-01T00:00:00.000Z"), Some(Duration::ZERO));
        assert_eq!(
            t("2026-12-06T07:43:17.250Z"),
            Some(Duration::new(1_796_542_997, 250_000_000))
        );
        assert_eq!(
            t("2000-02-29T12:00:00Z"),
            Some(Duration::from_secs(951_825_600))
        );
        for bad in [
            "",
            "2026-13-01T00:00:00Z",
            "2026-12-06 07:43:17Z",
            "2026-12-06T07:43:17",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }
}

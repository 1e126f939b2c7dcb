//! CRC-64/XZ (ECMA-182 reflected, init and xorout all ones): the `x-oss-hash-crc64ecma` checksum.

use std::io::{self, Write};

use crc_fast::{CrcAlgorithm, Digest};

/// The response/request header in which OSS reports the CRC-64 of the stored bytes.
pub(crate) const HEADER_CRC64: &str = "x-oss-hash-crc64ecma";

/// A running CRC-64/XZ.
#[derive(Debug, Clone, Copy)]
pub struct Crc64 {
    digest: Digest,
    len: u64,
}

impl Default for Crc64 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc64 {
    /// A CRC over zero bytes (value 0).
    pub fn new() -> Self {
        Self {
            digest: Digest::new(CrcAlgorithm::Crc64Xz),
            len: 0,
        }
    }

    /// Adds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.digest.update(data);
        self.len += data.len() as u64;
    }

    /// The CRC of everything added so far.
    pub fn value(&self) -> u64 {
        self.digest.finalize()
    }

    /// How many bytes were added.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no byte was added.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The CRC-64/XZ of `data`.
pub fn checksum(data: &[u8]) -> u64 {
    crc_fast::checksum(CrcAlgorithm::Crc64Xz, data)
}

/// The CRC of `A ‖ B` from `crc(A)`, `crc(B)` and `len(B)` (multipart: the object CRC from the
/// part CRCs, as OSS computes it at CompleteMultipartUpload).
pub(crate) fn combine(crc_a: u64, crc_b: u64, len_b: u64) -> u64 {
    if len_b == 0 {
        return crc_a;
    }
    crc_fast::checksum_combine(CrcAlgorithm::Crc64Xz, crc_a, crc_b, len_b)
}

/// Parses the decimal `x-oss-hash-crc64ecma` header value.
pub fn parse_header(value: &str) -> Option<u64> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// A writer that computes the CRC-64 of everything written through it.
#[derive(Debug)]
pub(crate) struct CrcWriter<W> {
    inner: W,
    crc: Crc64,
}

impl<W: Write> CrcWriter<W> {
    /// Wraps `inner`.
    pub(crate) fn new(inner: W) -> Self {
        Self {
            inner,
            crc: Crc64::new(),
        }
    }

    /// The CRC (and byte count) so far.
    pub(crate) fn crc(&self) -> Crc64 {
        self.crc
    }

    /// The wrapped writer.
    pub(crate) fn into_inner(self) -> W {
        self.inner
    }
}

impl<W: Write> Write for CrcWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value_and_empty() {
        assert_eq!(checksum(b"123456789"), 0x995D_C9BB_DF19_39FA);
        assert_eq!(checksum(b""), 0);
        let mut c = Crc64::new();
        c.update(b"1234");
        c.update(b"56789");
        assert_eq!(c.value(), 0x995D_C9BB_DF19_39FA);
        assert_eq!(c.len(), 9);
    }

    #[test]
    fn combine_matches_straight_computation() {
        let data: Vec<u8> = (0..10_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        for split in [0usize, 1, 15, 16, 4096, 9_999, 10_000] {
            let (a, b) = data.split_at(split);
            assert_eq!(
                combine(checksum(a), checksum(b), b.len() as u64),
                checksum(&data),
                "split {split}"
            );
        }
    }

    #[test]
    fn header_parsing_is_strict() {
        assert_eq!(
            parse_header("11051210869376104954"),
            Some(0x995D_C9BB_DF19_39FA)
        );
        assert_eq!(parse_header(" 0 "), Some(0));
        assert_eq!(parse_header("-1"), None);
        assert_eq!(parse_header("18446744073709551616"), None);
        assert_eq!(parse_header(""), None);
        assert_eq!(parse_header("0x10"), None);
    }

    #[test]
    fn writer_hashes_what_passes() {
        let mut w = CrcWriter::new(Vec::new());
        w.write_all(b"123456789").unwrap();
        assert_eq!(w.crc().value(), 0x995D_C9BB_DF19_39FA);
        assert_eq!(w.into_inner(), b"123456789");
    }
}

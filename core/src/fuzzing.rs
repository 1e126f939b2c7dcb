//! The bodies of the cargo-fuzz targets in `fuzz/`, so that the same checks run in two places:
//! under libFuzzer (nightly, `scripts/fuzz.sh`) and in a plain `cargo test` that replays every
//! committed seed and every crash input ever found (`core/tests/fuzz_replay.rs` over
//! `fuzz/seeds/<target>/` and `fuzz/regressions/<target>/`).
//!
//! Each function takes the raw fuzzer input and panics when an invariant breaks; an input that
//! does not fit the target's shape is ignored. Not a stable API.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::content::{ByteRange, ContentMaterial, MultipartPlan, RangePlan};
use crate::envelope::{
    LEGACY_HEADER_CEK_ALG, LEGACY_HEADER_KEY, LEGACY_HEADER_START, LEGACY_HEADER_WRAP_ALG, Matdesc,
    ObjectEncryption, parse,
};
use crate::stream::{CtrReader, CtrWriter};

/// A fuzz target's body: takes the raw input, panics when an invariant breaks.
pub type Target = fn(&[u8]);

/// The targets this module serves, by the name of their directory under `fuzz/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("envelope_parse", envelope_parse),
    ("legacy", legacy),
    ("matdesc", matdesc),
    ("plan", plan),
    #[cfg(feature = "sign")]
    ("sign_canonical", sign_canonical),
    ("stream_decrypt", stream_decrypt),
];

/// Envelope headers (`name: value` lines): parse never panics, and parse → emit → parse is
/// stable (byte-identical header values, equal envelopes).
#[allow(clippy::panic)]
pub fn envelope_parse(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let pairs: Vec<(&str, &str)> = text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n, v.trim()))
        .collect();
    if let Ok(ObjectEncryption::Envelope(env)) = parse(pairs.iter().copied()) {
        let emitted = env.headers();
        let again = match parse(emitted.iter().map(|(n, v)| (*n, v.as_str()))) {
            Ok(again) => again,
            Err(e) => panic!("emitted headers do not parse: {e:?}"),
        };
        assert_eq!(
            again,
            ObjectEncryption::Envelope(env),
            "parse(emit(e)) == e"
        );
        if let ObjectEncryption::Envelope(env2) = again {
            assert_eq!(env2.headers(), emitted, "emission is canonical");
        }
    }
}

/// The legacy oss2 format: header parsing never panics, and the decimal counter parser agrees
/// with `u128` arithmetic.
#[allow(clippy::panic)]
pub fn legacy(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(4, '\n');
    let headers = [
        LEGACY_HEADER_KEY,
        LEGACY_HEADER_START,
        LEGACY_HEADER_CEK_ALG,
        LEGACY_HEADER_WRAP_ALG,
    ];
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|h| (*h, parts.next().unwrap_or("")))
        .collect();
    let _ = parse(pairs);
    let decimal = core::str::from_utf8(data)
        .ok()
        .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|s| s.parse::<u128>().ok());
    match (crate::wrap::legacy_counter(data), decimal) {
        (Ok(block), Some(n)) => assert_eq!(u128::from_be_bytes(block), n),
        (Ok(_), None) => panic!("accepted a non-decimal or oversized counter"),
        (Err(_), Some(_)) if !data.is_empty() && data.len() <= 39 => {
            panic!("refused a valid counter")
        }
        _ => {}
    }
}

/// matdesc JSON: strict parse never panics; the text is kept verbatim; the canonical form
/// re-parses to an equal matdesc and is a fixed point; building from the pairs gives the
/// canonical text.
pub fn matdesc(data: &[u8]) {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    if let Ok(m) = Matdesc::parse(text) {
        assert_eq!(m.as_str(), text, "the text is kept verbatim");
        let canonical = m.canonical();
        let again = Matdesc::parse(&canonical);
        assert_eq!(again.as_ref().ok(), Some(&m), "the canonical form parses");
        if let Ok(again) = again {
            assert_eq!(again.canonical(), canonical);
        }
        let rebuilt =
            Matdesc::from_pairs(m.iter().map(|(k, v)| (String::from(k), String::from(v))));
        assert_eq!(
            rebuilt.as_ref().map(Matdesc::as_str).ok(),
            Some(canonical.as_str()),
            "pairs rebuild the canonical text"
        );
    }
}

/// Range and multipart planning: never panic, and every plan keeps its invariants. Input:
/// object size, part size and minimum part size (3 × u64 LE), then a `Range` text.
pub fn plan(data: &[u8]) {
    let (Some(size), Some(part_size), Some(min)) =
        (le_u64(data, 0), le_u64(data, 8), le_u64(data, 16))
    else {
        return;
    };
    let (part_size, min) = (part_size % (1 << 30), min % (1 << 20));
    let text = String::from_utf8_lossy(&data[24..]);
    if let Ok(range) = ByteRange::parse(&text)
        && let Ok(plan) = RangePlan::resolve(range, size)
    {
        assert!(plan.aligned_first <= plan.first && plan.first <= plan.last);
        assert!(plan.last < size);
        assert!(plan.skip() < 16 && plan.aligned_first % 16 == 0);
        assert_eq!(plan.request_len(), plan.len() + plan.skip());
    }
    if let Ok(plan) = MultipartPlan::with_min_part_size(size % (1 << 40), part_size, min) {
        assert!(plan.part_size() % 16 == 0 && plan.part_count() <= 10_000);
        let mut next = 0;
        for part in plan.parts() {
            assert_eq!(part.offset, next);
            assert!(part.len <= plan.part_size());
            next += part.len;
        }
        assert_eq!(next, plan.data_size());
    }
}

/// Signing canonicalization (V4 canonical request, V1 canonical resource and string to sign)
/// never panics on arbitrary methods, keys, query parameters and headers, and is deterministic.
/// Input: NUL-separated method, bucket, key, `&`-joined query and `\n`-joined headers.
#[cfg(feature = "sign")]
pub fn sign_canonical(data: &[u8]) {
    use crate::sign::{Request, v1, v4};
    let text = String::from_utf8_lossy(data);
    let mut fields = text.split('\u{0}');
    let method = fields.next().unwrap_or("GET");
    let bucket = fields.next();
    let key = fields.next();
    let query: Vec<(&str, &str)> = fields
        .next()
        .unwrap_or("")
        .split('&')
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    let headers: Vec<(&str, &str)> = fields
        .next()
        .unwrap_or("")
        .split('\n')
        .filter_map(|l| l.split_once(':'))
        .collect();
    let req = Request {
        method,
        bucket,
        key,
        query: &query,
        headers: &headers,
    };
    let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    let additional = v4::additional_headers(&headers, &names);
    let a = v4::canonical_request(&req, &additional);
    assert_eq!(a, v4::canonical_request(&req, &additional));
    let r = v1::canonical_resource(&req, v1::SIGNED_SUB_RESOURCES);
    let s = v1::string_to_sign(
        &req,
        "Wed, 28 Dec 2022 10:27:41 GMT",
        v1::SIGNED_SUB_RESOURCES,
    );
    assert!(s.ends_with(&r));
}

/// Streaming decryption under arbitrary chunking (and a start offset) equals one-shot
/// decryption; the writer under arbitrary short writes equals it too. Input: key (32), IV
/// (16), offset (u64 LE), chunk count, chunk sizes, body.
#[allow(clippy::panic)]
pub fn stream_decrypt(data: &[u8]) {
    let (Some(key), Some(iv), Some(offset)) = (
        data.get(..32).and_then(|b| <[u8; 32]>::try_from(b).ok()),
        data.get(32..48).and_then(|b| <[u8; 16]>::try_from(b).ok()),
        le_u64(data, 48),
    ) else {
        return;
    };
    let Some((&n, rest)) = data.get(56..).and_then(<[u8]>::split_first) else {
        return;
    };
    if rest.is_empty() {
        return;
    }
    // Byte positions are u64: a stream may not run past 2^64 bytes (OSS objects are far
    // smaller), so keep offset + length inside that domain.
    let offset = offset >> 1;
    let nchunks = usize::from(n) % 16 + 1;
    let (chunks, body) = rest.split_at(nchunks.min(rest.len()));
    let m = ContentMaterial::from_parts(key, iv);
    let mut expect = body.to_vec();
    m.apply_at(offset, &mut expect);

    let chunk =
        |i: usize| usize::from(chunks.get(i % chunks.len().max(1)).copied().unwrap_or(1)).max(1);
    let mut reader = CtrReader::new(body, m.keystream_at(offset));
    let mut got = Vec::new();
    for i in 0.. {
        let mut buf = vec![0u8; chunk(i)];
        let n = match embedded_io::Read::read(&mut reader, &mut buf) {
            Ok(n) => n,
            Err(e) => panic!("reading a slice failed: {e:?}"),
        };
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, expect, "chunked reader equals one-shot");

    let mut sink = Vec::new();
    let mut writer = CtrWriter::new(
        ShortWriter {
            out: &mut sink,
            limits: chunks,
            calls: 0,
        },
        m.keystream_at(offset),
    );
    if let Err(e) = embedded_io::Write::write_all(&mut writer, body) {
        panic!("short writes failed: {e:?}");
    }
    drop(writer);
    assert_eq!(sink, expect, "short-writing writer equals one-shot");
}

fn le_u64(data: &[u8], at: usize) -> Option<u64> {
    data.get(at..at + 8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes)
}

/// A sink that accepts at most `limits[call % len]` bytes per write.
struct ShortWriter<'a> {
    out: &'a mut Vec<u8>,
    limits: &'a [u8],
    calls: usize,
}

impl embedded_io::ErrorType for ShortWriter<'_> {
    type Error = core::convert::Infallible;
}

impl embedded_io::Write for ShortWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let limit = self
            .limits
            .get(self.calls % self.limits.len().max(1))
            .copied()
            .map_or(7, usize::from)
            .max(1);
        self.calls += 1;
        let n = buf.len().min(limit);
        self.out.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

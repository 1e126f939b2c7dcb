//! The stream adapters give the same bytes as one-shot `apply`, however the data is chunked,
//! over `embedded-io`, `std::io` and `embedded-io-async`, from any starting offset.
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_alloc,
    clippy::std_instead_of_core
)]
#![cfg(all(feature = "std", feature = "async"))]

#[path = "support/fixtures.rs"]
mod fixtures;

use fixtures::TestRng;
use osscse_core::content::ContentMaterial;
use osscse_core::stream::{CtrReader, CtrWriter};

/// A writer that accepts at most `limit` bytes per call (short writes).
struct Trickle(Vec<u8>, usize);
impl embedded_io::ErrorType for Trickle {
    type Error = core::convert::Infallible;
}
impl embedded_io::Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let n = buf.len().min(self.1);
        self.0.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

#[test]
fn any_chunking_gives_the_same_bytes() {
    let mut rng = TestRng(77);
    let m = ContentMaterial::generate(&mut rng).unwrap();
    let plain: Vec<u8> = (0..5000).map(|_| rng.next() as u8).collect();
    for start in [0u64, 1, 15, 16, 17, 4095] {
        let mut expect = plain.clone();
        m.apply_at(start, &mut expect);
        for chunk in [1usize, 3, 16, 17, 511, 512, 513, 5000] {
            // embedded-io reader
            let mut r = CtrReader::new(&plain[..], m.keystream_at(start));
            let mut got = Vec::new();
            let mut buf = vec![0u8; chunk];
            loop {
                let n = embedded_io::Read::read(&mut r, &mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert!(got == expect, "reader start {start} chunk {chunk}");
            // embedded-io writer with short writes from the sink
            let mut w =
                CtrWriter::new(Trickle(Vec::new(), chunk.max(2) / 2), m.keystream_at(start));
            for piece in plain.chunks(chunk) {
                embedded_io::Write::write_all(&mut w, piece).unwrap();
            }
            assert!(
                w.into_inner().0 == expect,
                "writer start {start} chunk {chunk}"
            );
            // std::io
            let mut w = CtrWriter::new(Vec::new(), m.keystream_at(start));
            for piece in plain.chunks(chunk) {
                std::io::Write::write_all(&mut w, piece).unwrap();
            }
            assert!(w.into_inner() == expect);
            let mut got = Vec::new();
            std::io::Read::read_to_end(
                &mut CtrReader::new(&plain[..], m.keystream_at(start)),
                &mut got,
            )
            .unwrap();
            assert!(got == expect);
        }
    }
}

#[test]
fn skip_drops_leading_bytes() {
    let m = ContentMaterial::from_parts([3; 32], [9; 16]);
    let plain = vec![0x5au8; 100];
    let mut cipher = plain.clone();
    m.apply_at(0, &mut cipher);
    for first in 0..48u64 {
        let aligned = first - first % 16;
        let mut r = CtrReader::with_skip(
            &cipher[aligned as usize..],
            m.keystream_at(aligned),
            first - aligned,
        );
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut r, &mut got).unwrap();
        assert_eq!(got, plain[first as usize..]);
    }
}

#[test]
fn async_twins_match() {
    let m = ContentMaterial::from_parts([5; 32], [0xfe; 16]);
    let plain: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    let mut expect = plain.clone();
    m.apply_at(0, &mut expect);
    futures_lite::future::block_on(async {
        let mut sink = vec![0u8; plain.len()];
        let mut w = CtrWriter::new(&mut sink[..], m.keystream_at(0));
        for piece in plain.chunks(333) {
            embedded_io_async::Write::write_all(&mut w, piece)
                .await
                .unwrap();
        }
        assert!(sink == expect);
        let mut r = CtrReader::new(&expect[..], m.keystream_at(0));
        let mut got = vec![0u8; plain.len()];
        embedded_io_async::Read::read_exact(&mut r, &mut got)
            .await
            .unwrap();
        assert!(got == plain);
    });
}

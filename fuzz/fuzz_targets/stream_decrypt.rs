//! Streaming decryption under arbitrary chunking (and a start offset) equals one-shot
//! decryption; the writer with arbitrary short writes equals it too.
#![no_main]
use libfuzzer_sys::fuzz_target;
use osscse_core::content::ContentMaterial;
use osscse_core::stream::{CtrReader, CtrWriter};

struct Short<'a>(&'a mut Vec<u8>, &'a [u8], usize);
impl embedded_io::ErrorType for Short<'_> {
    type Error = core::convert::Infallible;
}
impl embedded_io::Write for Short<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        let limit = usize::from(
            self.1
                .get(self.2 % self.1.len().max(1))
                .copied()
                .unwrap_or(7),
        )
        .max(1);
        self.2 += 1;
        let n = buf.len().min(limit);
        self.0.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 58 {
        return;
    }
    let key: [u8; 32] = data[..32].try_into().unwrap();
    let iv: [u8; 16] = data[32..48].try_into().unwrap();
    // Byte positions are u64: a stream may not run past 2^64 bytes (OSS objects are far
    // smaller), so keep offset + length inside that domain.
    let offset = u64::from_le_bytes(data[48..56].try_into().unwrap()) >> 1;
    let nchunks = usize::from(data[56]) % 16 + 1;
    let (chunks, body) = data[57..].split_at(nchunks.min(data.len() - 57));
    let m = ContentMaterial::from_parts(key, iv);
    let mut expect = body.to_vec();
    m.apply_at(offset, &mut expect);

    let mut reader = CtrReader::new(body, m.keystream_at(offset));
    let mut got = Vec::new();
    let mut i = 0;
    loop {
        let len = usize::from(chunks.get(i % chunks.len().max(1)).copied().unwrap_or(1)).max(1);
        i += 1;
        let mut buf = vec![0u8; len];
        let n = embedded_io::Read::read(&mut reader, &mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(got, expect);

    let mut sink = Vec::new();
    let mut writer = CtrWriter::new(Short(&mut sink, chunks, 0), m.keystream_at(offset));
    embedded_io::Write::write_all(&mut writer, body).unwrap();
    drop(writer);
    assert_eq!(sink, expect);
});

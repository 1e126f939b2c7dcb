//! The hardware-AES seam: a mock AES peripheral (the `aes` crate behind
//! `BlockCipher256` + `LoadKey`, counting every block it encrypts) drives the CTR_DRBG, a
//! `SealedObject` and a signed upload, and every byte matches the osscse-core engine.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test
#![allow(clippy::std_instead_of_core, clippy::std_instead_of_alloc)] // a std host test

#[path = "support/device.rs"]
mod support;

use std::cell::Cell;
use std::rc::Rc;

use aes::Aes256;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use futures_lite::future::block_on;
use osscse_core::engine::{BLOCK_LEN, BlockCipher256};
use osscse_core::sign::Credentials;
use osscse_embedded::{CtrDrbg, LoadKey, PayloadSigning, SealedObject, Uploader};
use rand_core::TryRng;
use std_embedded_nal_async::Stack;
use support::*;

/// What the "peripheral" did.
#[derive(Debug, Default)]
struct Counters {
    blocks: Cell<u64>,
    key_loads: Cell<u64>,
}

/// A stand-in for an MCU AES peripheral: ECB blocks only, counted.
struct MockAes {
    cipher: Option<Aes256>,
    counters: Rc<Counters>,
}

impl MockAes {
    fn new() -> (Self, Rc<Counters>) {
        let counters = Rc::new(Counters::default());
        (
            Self {
                cipher: None,
                counters: Rc::clone(&counters),
            },
            counters,
        )
    }
}

impl BlockCipher256 for MockAes {
    fn encrypt_blocks(&mut self, blocks: &mut [[u8; BLOCK_LEN]]) {
        let cipher = self.cipher.as_ref().expect("a key is loaded before use");
        for block in &mut *blocks {
            let mut b = aes::Block::from(*block);
            cipher.encrypt_block(&mut b);
            block.copy_from_slice(&b);
        }
        let n = self.counters.blocks.get() + blocks.len() as u64;
        self.counters.blocks.set(n);
    }
}

impl LoadKey for MockAes {
    fn load_key(&mut self, key: &[u8; 32]) {
        self.cipher = Some(Aes256::new_from_slice(key).unwrap());
        self.counters
            .key_loads
            .set(self.counters.key_loads.get() + 1);
    }
}

#[test]
fn ctr_drbg_on_the_peripheral_matches_the_engine_block_for_block() {
    let seed = [0x5au8; 48];
    let (mock, counters) = MockAes::new();
    let mut on_mock = CtrDrbg::instantiate_with(mock, &seed, b"device-7").unwrap();
    let mut on_engine = CtrDrbg::instantiate(&seed, b"device-7").unwrap();
    // Instantiate = one CTR_DRBG_Update: 3 blocks (seedlen 48), key loaded twice (0^32, new).
    assert_eq!(counters.blocks.get(), 3);
    assert_eq!(counters.key_loads.get(), 2);

    let (mut a, mut b) = ([0u8; 100], [0u8; 100]);
    on_mock.generate(&mut a, &[]).unwrap();
    on_engine.generate(&mut b, &[]).unwrap();
    assert_eq!(a, b);
    // 100 bytes = 7 blocks, then the update: 3 more.
    assert_eq!(counters.blocks.get(), 3 + 7 + 3);
    assert_eq!(counters.key_loads.get(), 3);

    // Additional input adds an update before generating; the rand_core path agrees too.
    on_mock.generate(&mut a[..16], b"extra").unwrap();
    on_engine.generate(&mut b[..16], b"extra").unwrap();
    assert_eq!(a, b);
    assert_eq!(counters.blocks.get(), 13 + 3 + 1 + 3);
    assert_eq!(
        on_mock.try_next_u64().unwrap(),
        on_engine.try_next_u64().unwrap()
    );
}

#[test]
fn sealed_object_on_the_peripheral_encrypts_like_the_engine() {
    let (mock, counters) = MockAes::new();
    let master = public_key();
    let on_mock =
        SealedObject::new_with_cipher(mock, &master, &mut fixed_drbg(4), None, 2000).unwrap();
    let on_engine = SealedObject::new(&master, &mut fixed_drbg(4), None, 2000).unwrap();
    assert_eq!(on_mock.envelope_headers(), on_engine.envelope_headers());
    assert_eq!(counters.key_loads.get(), 1, "keyed once with the data key");
    assert_eq!(counters.blocks.get(), 0);

    let data = payload(1000, 4);
    let (mut a, mut b) = (data.clone(), data.clone());
    // Offset 5: a partial leading block (bytes 5..16), then 989 bytes = 62 blocks.
    on_mock.encrypt_at(5, &mut a);
    on_engine.encrypt_at(5, &mut b);
    assert_eq!(a, b);
    assert_ne!(a, data);
    assert_eq!(counters.blocks.get(), 63);
    let mock = on_mock.into_cipher();
    assert!(mock.cipher.is_some());
}

#[test]
fn signed_upload_runs_both_passes_on_the_peripheral() {
    let server = start_server();
    let endpoint = server.endpoint();
    let stack = Stack::default();
    let credentials = Credentials::new(AK, SK);
    let master = public_key();
    let len = 5000usize;
    let blocks_per_pass = len.div_ceil(16) as u64;
    let data = payload(len, 5);
    let mut rx = [0u8; 2048];
    for (key, signing, passes) in [
        ("seam/signed.bin", PayloadSigning::ContentMd5, 2),
        (
            "seam/unsigned.bin",
            PayloadSigning::UnsignedPayloadAlterableInTransit,
            1,
        ),
    ] {
        let (mock, counters) = MockAes::new();
        let sealed =
            SealedObject::new_with_cipher(mock, &master, &mut fixed_drbg(5), None, len as u64)
                .unwrap();
        let mut uploader = Uploader::new(&stack, &stack, target(&endpoint), &credentials)
            .with_payload_signing(signing);
        block_on(uploader.put(key, &sealed, &mut &data[..], None, now(), &mut rx))
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        assert_eq!(counters.blocks.get(), passes * blocks_per_pass, "{key}");

        let engine = SealedObject::new(&master, &mut fixed_drbg(5), None, len as u64).unwrap();
        let mut expected = data.clone();
        engine.encrypt_at(0, &mut expected);
        assert_eq!(server.object(BUCKET, key).unwrap().data, expected, "{key}");
        assert_eq!(read_with_osscse_std(&server, key), data, "{key}");
    }
}

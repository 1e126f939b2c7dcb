//! The AES-256-CTR engine against the reference `ctr::Ctr128BE<aes::Aes256>`: NIST SP 800-38A
//! vectors and a randomized differential test, on every backend this CPU can run.
//!
//! Reproduce a failing randomized run with `OSSCSE_TEST_SEED=<seed printed in the failure>`.
#![allow(clippy::unwrap_used)]

use cipher::{KeyIvInit, StreamCipher, StreamCipherSeek};
use osscse_core::Error;
use osscse_core::engine::{BLOCK_LEN, Backend, BlockCipher256, Engine, Keystream};

type Reference = ctr::Ctr128BE<aes::Aes256>;

/// NIST SP 800-38A F.5.5 / F.5.6 (CTR-AES256).
const NIST_KEY: &str = "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
const NIST_COUNTER: &str = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
const NIST_PLAINTEXT: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51\
                              30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
const NIST_CIPHERTEXT: &str = "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5\
                               2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6";

fn available_backends() -> Vec<Backend> {
    let backends: Vec<Backend> = Backend::ALL
        .into_iter()
        .filter(|b| b.is_available())
        .collect();
    eprintln!("backends on this CPU: {backends:?}");
    backends
}

fn engine(key: &[u8; 32], backend: Backend) -> Engine {
    Engine::with_backend(key, backend).expect("backend reported available")
}

fn nist() -> ([u8; 32], [u8; 16], Vec<u8>, Vec<u8>) {
    (
        hex::decode(NIST_KEY).unwrap().try_into().unwrap(),
        hex::decode(NIST_COUNTER).unwrap().try_into().unwrap(),
        hex::decode(NIST_PLAINTEXT).unwrap(),
        hex::decode(NIST_CIPHERTEXT).unwrap(),
    )
}

#[test]
fn forced_backend_is_the_one_running() {
    let forced = [
        (cfg!(osscse_backend = "soft"), Backend::Soft),
        (cfg!(osscse_backend = "aesni"), Backend::AesNi),
        (cfg!(osscse_backend = "vaes256"), Backend::Vaes256),
        (cfg!(osscse_backend = "vaes512"), Backend::Vaes512),
        (cfg!(osscse_backend = "armv8"), Backend::Armv8),
    ]
    .into_iter()
    .find_map(|(set, backend)| set.then_some(backend));
    assert_eq!(Backend::forced(), forced);
    // A forced backend this CPU cannot run is a loud error, never a silent fallback (see
    // scripts/test-engine.sh, which runs a forced VAES-512 build on a CPU without AVX-512).
    if let Some(missing) = forced.and_then(Backend::missing_cpu_feature) {
        let backend = forced.unwrap();
        let panic = std::panic::catch_unwind(|| Keystream::new(&[7; 32], &[0; 16]))
            .expect_err("a forced backend the CPU lacks must panic");
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        eprintln!("forced {backend:?} without `{missing}`: {message}");
        assert!(
            message.contains(&format!("osscse_backend=\"{}\"", backend.name()))
                && message.contains(&format!("`{missing}`")),
            "{message}"
        );
        if let Ok(expected) = std::env::var("OSSCSE_EXPECT_MISSING") {
            assert_eq!(missing, expected, "OSSCSE_EXPECT_MISSING");
        }
        return;
    }
    assert!(
        std::env::var("OSSCSE_EXPECT_MISSING").is_err(),
        "OSSCSE_EXPECT_MISSING is set but {forced:?} runs on this CPU"
    );
    let running = Keystream::new(&[7; 32], &[0; 16]).backend();
    eprintln!("Keystream::new runs on {running:?}");
    assert_eq!(running, Backend::detect());
    match forced {
        Some(expected) => assert_eq!(running, expected),
        None => assert_eq!(running, available_backends()[0]),
    }
    if let Ok(expected) = std::env::var("OSSCSE_EXPECT_BACKEND") {
        assert_eq!(running.name(), expected, "OSSCSE_EXPECT_BACKEND");
    }
}

#[test]
fn missing_cpu_feature_agrees_with_availability() {
    for backend in Backend::ALL {
        let missing = backend.missing_cpu_feature();
        eprintln!("{backend:?}: missing {missing:?}");
        assert_eq!(backend.is_available(), missing.is_none(), "{backend:?}");
        assert_eq!(
            Engine::with_backend(&[1; 32], backend).is_some(),
            missing.is_none(),
            "{backend:?}"
        );
    }
    assert_eq!(Backend::Soft.missing_cpu_feature(), None);
    if cfg!(target_arch = "x86_64") {
        assert_eq!(Backend::Armv8.missing_cpu_feature(), Some("aarch64"));
    } else {
        for backend in [Backend::AesNi, Backend::Vaes256, Backend::Vaes512] {
            assert_eq!(backend.missing_cpu_feature(), Some("x86_64"));
        }
    }
}

#[test]
fn nist_sp800_38a_f55_f56_every_backend() {
    let (key, counter, plaintext, ciphertext) = nist();
    for backend in available_backends() {
        // F.5.5 encrypt, in place.
        let mut buf = plaintext.clone();
        Keystream::with_cipher(engine(&key, backend), &counter).apply(&mut buf);
        assert_eq!(
            hex::encode(&buf),
            hex::encode(&ciphertext),
            "{backend:?} F.5.5"
        );
        // F.5.6 decrypt, out of place.
        let mut out = vec![0u8; ciphertext.len()];
        Keystream::with_cipher(engine(&key, backend), &counter)
            .apply_to(&ciphertext, &mut out)
            .unwrap();
        assert_eq!(out, plaintext, "{backend:?} F.5.6");
        // Block by block with seeks in between, including from the end backwards.
        let mut ks = Keystream::with_cipher(engine(&key, backend), &counter);
        for block in (0..4).rev() {
            let range = block * 16..block * 16 + 16;
            let mut chunk = plaintext[range.clone()].to_vec();
            ks.seek(block as u64 * 16);
            ks.apply(&mut chunk);
            assert_eq!(chunk, ciphertext[range], "{backend:?} block {block}");
        }
    }
    // The default constructor too.
    let mut buf = plaintext.clone();
    Keystream::new(&key, &counter).apply(&mut buf);
    assert_eq!(buf, ciphertext);
}

#[test]
fn ecb_blocks_match_aes_every_backend() {
    use cipher::{BlockCipherEncrypt, KeyInit};
    let key = [0x42u8; 32];
    let reference = aes::Aes256::new(&key.into());
    let mut expected = [[0u8; 16]; 37];
    for (i, block) in expected.iter_mut().enumerate() {
        block
            .iter_mut()
            .enumerate()
            .for_each(|(j, b)| *b = (i * 31 + j * 7) as u8);
    }
    let input = expected;
    for block in &mut expected {
        reference.encrypt_block(block.into());
    }
    for backend in available_backends() {
        let mut blocks = input;
        engine(&key, backend).encrypt_blocks(&mut blocks);
        assert_eq!(blocks, expected, "{backend:?}");
    }
}

/// splitmix64: a small deterministic generator so failures reproduce from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn fill(&mut self, buf: &mut [u8]) {
        buf.iter_mut().for_each(|b| *b = self.next() as u8);
    }
}

fn seed() -> u64 {
    std::env::var("OSSCSE_TEST_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
}

/// Counter blocks that exercise the carry paths: random, just below a low-64-bit carry, just
/// below the 2^128 wrap, and exact boundaries.
fn counter_block(rng: &mut Rng) -> u128 {
    let near = rng.below(400) as u128;
    match rng.below(6) {
        0 => (u128::from(rng.next()) << 64) | u128::from(rng.next()),
        1 => (u128::from(rng.next()) << 64) | u128::from(u64::MAX - near as u64),
        2 => u128::MAX - near,
        3 => (u128::from(rng.next()) << 64) | u128::from(u64::MAX),
        4 => u128::from(u64::MAX) - near,
        _ => near,
    }
}

fn reference_keystream(key: &[u8; 32], counter: &[u8; 16], offset: u64, data: &mut [u8]) {
    let mut reference = Reference::new(key.into(), counter.into());
    reference.seek(offset);
    reference.apply_keystream(data);
}

#[test]
fn differential_against_ctr_every_backend() {
    let seed = seed();
    let cases: usize = std::env::var("OSSCSE_ENGINE_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    for backend in available_backends() {
        let mut rng = Rng(seed ^ backend.name().len() as u64);
        for case in 0..cases {
            let mut key = [0u8; 32];
            rng.fill(&mut key);
            let counter = counter_block(&mut rng).to_be_bytes();
            let len = rng.below(4097) as usize;
            let offset = match rng.below(3) {
                0 => rng.below(64),
                1 => rng.below(1 << 20),
                _ => rng.below(1 << 40) * 16 + rng.below(16),
            };
            let mut plaintext = vec![0u8; len];
            rng.fill(&mut plaintext);
            let mut expected = plaintext.clone();
            reference_keystream(&key, &counter, offset, &mut expected);

            let mut ks = Keystream::with_cipher(engine(&key, backend), &counter);
            ks.seek(offset);
            let in_place = rng.below(2) == 0;
            let mut got = if in_place {
                plaintext.clone()
            } else {
                vec![0u8; len]
            };
            // Random chunking, so partial blocks occur at both ends of many calls.
            let mut done = 0;
            while done < len {
                let chunk = match rng.below(4) {
                    0 => 1 + rng.below(17) as usize,
                    1 => 1 + rng.below(600) as usize,
                    _ => len - done,
                }
                .min(len - done);
                if in_place {
                    ks.apply(&mut got[done..done + chunk]);
                } else {
                    ks.apply_to(&plaintext[done..done + chunk], &mut got[done..done + chunk])
                        .unwrap();
                }
                done += chunk;
                assert_eq!(ks.position(), offset + done as u64);
            }
            assert!(
                got == expected,
                "{backend:?} case {case} seed {seed}: counter {} offset {offset} len {len} \
                 in_place {in_place}",
                hex::encode(counter),
            );
        }
    }
}

#[test]
fn long_buffers_cross_the_64_bit_carry_and_128_bit_wrap() {
    // Buffers longer than one kernel iteration that start below the carry point, so the
    // carry lands inside the wide loop, for every backend and at several alignments.
    let key = [0x5a; 32];
    let counters = [
        (u128::from(0x0123_4567_89ab_cdefu64) << 64) | u128::from(u64::MAX - 40),
        u128::MAX - 40,
        u128::from(u64::MAX) - 3,
    ];
    for backend in available_backends() {
        for counter in counters {
            let counter = counter.to_be_bytes();
            for (offset, len) in [(0u64, 70_000usize), (5, 4096), (16 * 33 + 3, 1025)] {
                let mut expected = vec![0u8; len];
                reference_keystream(&key, &counter, offset, &mut expected);
                let mut got = vec![0u8; len];
                let mut ks = Keystream::with_cipher(engine(&key, backend), &counter);
                ks.seek(offset);
                ks.apply(&mut got);
                assert!(got == expected, "{backend:?} {counter:02x?} {offset} {len}");
            }
        }
    }
}

#[test]
fn wide_loop_edges_and_carries_every_backend() {
    // Lengths around the wide loops (AES-NI 8 blocks, VAES-256 16, VAES-512 32 per iteration)
    // ± a block and ± odd bytes, with the 2^64 carry and the 2^128 wrap landing on an
    // iteration boundary, inside an iteration and in the tail; in place and out of place.
    let key = [0xc3; 32];
    let mut lengths = Vec::new();
    for blocks in [7usize, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 96, 100] {
        for extra in [-15isize, -1, 0, 1, 7] {
            let len = (blocks * 16) as isize + extra;
            lengths.push(len as usize);
        }
    }
    let mut counters = Vec::new();
    for before in [0u64, 1, 7, 8, 15, 16, 31, 32, 33, 40] {
        counters.push((0x0123_4567_89ab_cdef_u128 << 64) | u128::from(u64::MAX - before));
        counters.push(u128::MAX - u128::from(before));
    }
    for backend in available_backends() {
        for &counter in &counters {
            let counter = counter.to_be_bytes();
            for &len in &lengths {
                let input: Vec<u8> = (0..len).map(|i| (i * 7 + len) as u8).collect();
                let mut expected = input.clone();
                reference_keystream(&key, &counter, 0, &mut expected);
                let mut got = input.clone();
                Keystream::with_cipher(engine(&key, backend), &counter).apply(&mut got);
                assert!(
                    got == expected,
                    "{backend:?} {counter:02x?} len {len} in place"
                );
                let mut out = vec![0u8; len];
                Keystream::with_cipher(engine(&key, backend), &counter)
                    .apply_to(&input, &mut out)
                    .unwrap();
                assert!(
                    out == expected,
                    "{backend:?} {counter:02x?} len {len} out of place"
                );
            }
        }
    }
}

#[test]
fn large_out_of_place_calls_every_backend() {
    // At least 4 MiB out of place takes the non-temporal store path of the VAES-512 kernel;
    // the output starts 16 bytes past a 64-byte line (aligning head) or at an odd address
    // (no streaming).
    let key = [0x17; 32];
    let counter = [0x3c; 16];
    let len = (4 << 20) + 100;
    let input: Vec<u8> = (0..len).map(|i| (i * 31 + 7) as u8).collect();
    let mut expected = input.clone();
    reference_keystream(&key, &counter, 0, &mut expected);
    let mut out = vec![0u8; len + 128];
    let base = out.as_ptr() as usize;
    for backend in available_backends() {
        for misalign in [16usize, 1] {
            let start = (64 - base % 64) % 64 + misalign;
            let output = &mut out[start..start + len];
            output.fill(0);
            Keystream::with_cipher(engine(&key, backend), &counter)
                .apply_to(&input, output)
                .unwrap();
            assert!(*output == expected[..], "{backend:?} misalign {misalign}");
        }
    }
}

/// A stand-in for an MCU AES peripheral: only ECB blocks, counting how many it encrypted.
struct Peripheral {
    aes: aes::Aes256,
    blocks: usize,
}

impl BlockCipher256 for Peripheral {
    fn encrypt_blocks(&mut self, blocks: &mut [[u8; BLOCK_LEN]]) {
        use cipher::BlockCipherEncrypt;
        self.blocks += blocks.len();
        for block in blocks {
            self.aes.encrypt_block(block.into());
        }
    }
}

#[test]
fn peripheral_trait_matches_reference() {
    use cipher::KeyInit;
    let (key, counter, plaintext, ciphertext) = nist();
    let peripheral = Peripheral {
        aes: aes::Aes256::new(&key.into()),
        blocks: 0,
    };
    let mut ks = Keystream::with_cipher(peripheral, &counter);
    let mut buf = plaintext.clone();
    ks.apply(&mut buf[..7]);
    ks.apply(&mut buf[7..]);
    assert_eq!(buf, ciphertext);

    let mut rng = Rng(seed());
    for _ in 0..50 {
        let mut key = [0u8; 32];
        rng.fill(&mut key);
        let counter = counter_block(&mut rng).to_be_bytes();
        let offset = rng.below(100_000);
        let len = rng.below(3000) as usize;
        let mut expected = vec![0xa5u8; len];
        reference_keystream(&key, &counter, offset, &mut expected);
        let mut ks = Keystream::with_cipher(
            Peripheral {
                aes: aes::Aes256::new(&key.into()),
                blocks: 0,
            },
            &counter,
        );
        ks.seek(offset);
        let mut got = vec![0u8; len];
        ks.apply_to(&vec![0xa5u8; len], &mut got).unwrap();
        assert_eq!(got, expected);
    }
}

#[test]
fn apply_to_rejects_length_mismatch_and_writes_nothing() {
    let mut ks = Keystream::new(&[1; 32], &[2; 16]);
    let mut out = [9u8; 10];
    assert_eq!(
        ks.apply_to(&[0u8; 11], &mut out),
        Err(Error::LengthMismatch)
    );
    assert_eq!(out, [9u8; 10]);
    assert_eq!(ks.position(), 0);
}

#[test]
fn seek_is_absolute_and_apply_empty_is_a_no_op() {
    let key = [3u8; 32];
    let counter = [0xffu8; 16];
    let mut whole = vec![0u8; 200];
    Keystream::new(&key, &counter).apply(&mut whole);
    let mut ks = Keystream::new(&key, &counter);
    ks.seek(1000);
    ks.apply(&mut []);
    assert_eq!(ks.position(), 1000);
    ks.seek(37);
    let mut part = vec![0u8; 100];
    ks.apply(&mut part);
    assert_eq!(part, whole[37..137]);
    assert_eq!(ks.position(), 137);
}

#[test]
fn debug_prints_no_key_material() {
    let key = [0xabu8; 32];
    let ks = Keystream::new(&key, &[0xcd; 16]);
    let text = format!("{ks:?} {:?}", Engine::new(&key));
    assert!(
        !text.to_lowercase().contains("ab, ab") && !text.contains("171"),
        "{text}"
    );
    assert!(!text.contains("abab") && !text.contains("cdcd"), "{text}");
}

/// Compile-time check: the engine's round keys and the keystream are zeroized on drop.
const _: () = {
    const fn zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    zeroize_on_drop::<Engine>();
    zeroize_on_drop::<Keystream>();
};

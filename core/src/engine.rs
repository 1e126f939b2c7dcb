//! The AES-256-CTR keystream: one safe [`Keystream`] type over per-architecture backends.
//!
//! The counter is the full 16-byte block, incremented as a 128-bit big-endian integer
//! (wrapping at 2^128), which is what every official OSS SDK does inside one stream
//! (FORMAT.md §3.2). [`Keystream::seek`] moves to any byte offset relative to the initial
//! counter block, so ranged reads and multipart parts need no special code.
//!
//! # Backends
//!
//! [`Engine`], the default block source of [`Keystream`], picks the fastest backend once, at
//! runtime ([`Backend`]): on x86-64 a fused counter→AES→XOR kernel over VAES-512 (zmm),
//! VAES-256 (ymm) or AES-NI (xmm, 8 blocks interleaved); on aarch64 the ARMv8 crypto
//! extensions (8 blocks interleaved); everywhere else (Cortex-M, …) the portable, constant-time
//! software AES of the `aes` crate. Tests can force one with
//! `RUSTFLAGS='--cfg osscse_backend="soft"'` (or `"aesni"`, `"vaes256"`, `"vaes512"`, `"armv8"`),
//! or pick one explicitly with [`Engine::with_backend`].
//!
//! A forced backend never falls back silently: forcing a backend of another architecture (or
//! two at once) is a compile error, and forcing one whose instructions this CPU lacks panics at
//! the first [`Engine::new`] / [`Keystream::new`] with a message naming the backend and the
//! missing CPU feature ([`Backend::missing_cpu_feature`]). So a test run under the cfg has
//! really run the forced backend.
//!
//! A microcontroller with an AES peripheral implements the safe [`BlockCipher256`] trait for
//! its driver and builds the keystream with [`Keystream::with_cipher`].
//!
//! This module is the only place in the crate allowed to contain `unsafe`, and only in its
//! per-architecture submodules.

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::Error;

// Forcing cfgs that cannot work on this target fail the build (as RustCrypto `chacha20` does
// for a forced backend without its target feature); CPU features are checked at run time.
#[cfg(all(osscse_backend = "armv8", not(target_arch = "aarch64")))]
compile_error!(
    "--cfg osscse_backend=\"armv8\" forces the ARMv8 AES backend, which needs an aarch64 target"
);
#[cfg(all(
    any(
        osscse_backend = "aesni",
        osscse_backend = "vaes256",
        osscse_backend = "vaes512"
    ),
    not(target_arch = "x86_64")
))]
compile_error!(
    "--cfg osscse_backend=\"aesni\"/\"vaes256\"/\"vaes512\" forces an x86-64 backend, which needs an x86_64 target"
);
#[cfg(any(
    all(
        osscse_backend = "soft",
        any(
            osscse_backend = "aesni",
            osscse_backend = "vaes256",
            osscse_backend = "vaes512",
            osscse_backend = "armv8"
        )
    ),
    all(
        osscse_backend = "aesni",
        any(
            osscse_backend = "vaes256",
            osscse_backend = "vaes512",
            osscse_backend = "armv8"
        )
    ),
    all(
        osscse_backend = "vaes256",
        any(osscse_backend = "vaes512", osscse_backend = "armv8")
    ),
    all(osscse_backend = "vaes512", osscse_backend = "armv8"),
))]
compile_error!("--cfg osscse_backend is set to more than one backend; force at most one");

#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
mod schedule;
mod soft;

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86;

#[cfg(target_arch = "aarch64")]
#[allow(unsafe_code)]
mod aarch64;

#[cfg(target_arch = "aarch64")]
use aarch64 as arch;
#[cfg(target_arch = "x86_64")]
use x86 as arch;

/// AES block size in bytes.
pub const BLOCK_LEN: usize = 16;

/// A source of AES-256 encryptions, such as a microcontroller's AES peripheral.
///
/// Implement [`encrypt_blocks`](Self::encrypt_blocks) (AES-256 in ECB direction on each block,
/// in place) and [`Keystream::with_cipher`] turns it into a full CTR keystream with seeking and
/// partial blocks. A peripheral with a hardware CTR mode may also override
/// [`xor_keystream`](Self::xor_keystream) and
/// [`xor_keystream_in_place`](Self::xor_keystream_in_place).
///
/// The trait is safe: an implementation that returns wrong blocks produces wrong ciphertext,
/// never undefined behaviour.
pub trait BlockCipher256 {
    /// Encrypts every 16-byte block of `blocks` in place with AES-256 under the cipher's key.
    fn encrypt_blocks(&mut self, blocks: &mut [[u8; BLOCK_LEN]]);

    /// XORs the CTR keystream into `buf` in place: bytes `16 i .. 16 i + 16` use the encryption
    /// of `counter + i` (mod 2^128, big-endian); a final partial block uses the first bytes of
    /// its keystream block.
    fn xor_keystream_in_place(&mut self, counter: u128, buf: &mut [u8]) {
        soft::xor_keystream_generic(self, counter, Data::InPlace(buf));
    }

    /// Writes `input` XOR the CTR keystream (as in
    /// [`xor_keystream_in_place`](Self::xor_keystream_in_place)) into `output`.
    ///
    /// Callers pass slices of equal length; extra bytes of the longer one are left alone.
    fn xor_keystream(&mut self, counter: u128, input: &[u8], output: &mut [u8]) {
        let len = input.len().min(output.len());
        soft::xor_keystream_generic(
            self,
            counter,
            Data::Copy {
                input: &input[..len],
                output: &mut output[..len],
            },
        );
    }
}

/// The backend an [`Engine`] runs on.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Portable constant-time software AES (the `aes` crate's block cipher), any target.
    Soft,
    /// x86-64 AES-NI on xmm registers, 8 blocks interleaved.
    AesNi,
    /// x86-64 VAES on ymm registers (AVX2), 16 blocks per iteration.
    Vaes256,
    /// x86-64 VAES on zmm registers (AVX-512F/BW), 32 blocks per iteration.
    Vaes512,
    /// aarch64 ARMv8 cryptography extensions, 8 blocks interleaved.
    Armv8,
}

impl Backend {
    /// Every backend, fastest first.
    pub const ALL: [Backend; 5] = [
        Backend::Vaes512,
        Backend::Vaes256,
        Backend::AesNi,
        Backend::Armv8,
        Backend::Soft,
    ];

    /// The short name used by the `osscse_backend` cfg (`"soft"`, `"aesni"`, …).
    pub const fn name(self) -> &'static str {
        match self {
            Backend::Soft => "soft",
            Backend::AesNi => "aesni",
            Backend::Vaes256 => "vaes256",
            Backend::Vaes512 => "vaes512",
            Backend::Armv8 => "armv8",
        }
    }

    /// Whether this CPU can run the backend (detected once, then cached).
    pub fn is_available(self) -> bool {
        self.missing_cpu_feature().is_none()
    }

    /// The first CPU feature the backend needs that this CPU lacks, or `None` when the backend
    /// can run here. Features use the names of `/proc/cpuinfo` and `target_feature` (`"aes"`,
    /// `"ssse3"`, `"avx2"`, `"vaes"`, `"avx512f"`, `"avx512bw"`); a backend of another
    /// architecture reports that architecture (`"x86_64"`, `"aarch64"`).
    pub fn missing_cpu_feature(self) -> Option<&'static str> {
        match self {
            Backend::Soft => None,
            #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
            other => arch::missing_cpu_feature(other),
            #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
            Backend::Armv8 => Some("aarch64"),
            #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
            _ => Some("x86_64"),
        }
    }

    /// The backend forced at build time with `--cfg osscse_backend="…"`, if any.
    pub const fn forced() -> Option<Backend> {
        if cfg!(osscse_backend = "soft") {
            Some(Backend::Soft)
        } else if cfg!(osscse_backend = "aesni") {
            Some(Backend::AesNi)
        } else if cfg!(osscse_backend = "vaes256") {
            Some(Backend::Vaes256)
        } else if cfg!(osscse_backend = "vaes512") {
            Some(Backend::Vaes512)
        } else if cfg!(osscse_backend = "armv8") {
            Some(Backend::Armv8)
        } else {
            None
        }
    }

    /// The backend [`Engine::new`] uses on this CPU: the one forced by
    /// `--cfg osscse_backend="…"` if it is set, else the fastest available one.
    ///
    /// # Panics
    /// When the cfg forces a backend this CPU cannot run: the message names the backend and the
    /// missing CPU feature. (Forcing is a test and benchmark tool; falling back silently would
    /// let a test pass without running the backend it claims to test.)
    pub fn detect() -> Backend {
        match Backend::forced() {
            Some(forced) => {
                if let Some(feature) = forced.missing_cpu_feature() {
                    panic!(
                        "--cfg osscse_backend=\"{}\" forces the {} backend, but this CPU lacks \
                         `{}`; build without the cfg or run on a CPU that has it",
                        forced.name(),
                        forced.title(),
                        feature
                    );
                }
                forced
            }
            None => Backend::ALL
                .into_iter()
                .find(|b| b.is_available())
                .unwrap_or(Backend::Soft),
        }
    }

    /// The backend's name in messages (`"VAES-512"`, …).
    const fn title(self) -> &'static str {
        match self {
            Backend::Soft => "portable software",
            Backend::AesNi => "AES-NI",
            Backend::Vaes256 => "VAES-256",
            Backend::Vaes512 => "VAES-512",
            Backend::Armv8 => "ARMv8 AES",
        }
    }
}

/// AES-256 round keys in FIPS 197 order (round 0 whitening key first), each the 16 key bytes
/// read as a little-endian `u128` (so in memory on these little-endian targets each is exactly
/// its 16 bytes). `u128` rather than `[u8; 16]` so that zeroizing is 15 wide volatile stores,
/// not 240 byte stores: every small object pays for one schedule and its wipe.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct RoundKeys(pub(crate) [u128; 15]);

// The software variant holds the `aes` crate's key schedules (about 480 bytes); boxing it
// would need `alloc`, which the portable (MCU) build does not have.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
enum Inner {
    Soft(soft::Soft),
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    Hardware(arch::Kernel, RoundKeys),
}

/// The built-in AES-256 block source: hardware-accelerated where the CPU allows, portable
/// software AES elsewhere. Its round keys are zeroized on drop.
#[derive(Clone)]
pub struct Engine {
    inner: Inner,
}

impl Engine {
    /// Expands `key` for the backend detected on this CPU ([`Backend::detect`]).
    ///
    /// # Panics
    /// When `--cfg osscse_backend="…"` forces a backend this CPU cannot run
    /// ([`Backend::detect`]).
    pub fn new(key: &[u8; 32]) -> Self {
        match Self::with_backend(key, Backend::detect()) {
            Some(engine) => engine,
            None => Self {
                inner: Inner::Soft(soft::Soft::new(key)),
            },
        }
    }

    /// Expands `key` for `backend`, or `None` when this CPU cannot run it.
    pub fn with_backend(key: &[u8; 32], backend: Backend) -> Option<Self> {
        let inner = match backend {
            Backend::Soft => Inner::Soft(soft::Soft::new(key)),
            #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
            other => {
                let kernel = arch::Kernel::new(other)?;
                let round_keys = kernel.expand_key(key);
                Inner::Hardware(kernel, round_keys)
            }
            #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
            _ => return None,
        };
        Some(Self { inner })
    }

    /// The backend this engine runs on.
    pub fn backend(&self) -> Backend {
        match &self.inner {
            Inner::Soft(_) => Backend::Soft,
            #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
            Inner::Hardware(kernel, _) => kernel.backend(),
        }
    }

    fn run(&mut self, counter: u128, data: Data<'_>) {
        match &mut self.inner {
            Inner::Soft(soft) => soft::xor_keystream_generic(soft, counter, data),
            #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
            Inner::Hardware(kernel, round_keys) => {
                run_split(counter, data, |c, d| kernel.xor_blocks(round_keys, c, d));
            }
        }
    }
}

/// Drives a whole-block kernel over `data`: cuts the work where the low 64 bits of the counter
/// wrap (so kernels can count in 64-bit lanes) and runs a final partial block through a
/// zero-filled scratch block.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
fn run_split(mut counter: u128, mut data: Data<'_>, mut kernel: impl FnMut(u128, Data<'_>)) {
    loop {
        let blocks = data.len() / BLOCK_LEN;
        if blocks == 0 {
            break;
        }
        // Blocks left before the low 64-bit word wraps (2^64 when it is zero).
        let room = u128::from(u64::MAX - counter as u64) + 1;
        let n = usize::try_from(room).map_or(blocks, |room| room.min(blocks));
        let (head, rest) = data.split_at(n * BLOCK_LEN);
        kernel(counter, head);
        counter = counter.wrapping_add(n as u128);
        data = rest;
    }
    if data.len() != 0 {
        let mut block = [0u8; BLOCK_LEN];
        kernel(counter, Data::InPlace(&mut block));
        data.xor_from(&block);
        block.zeroize();
    }
}

impl BlockCipher256 for Engine {
    fn encrypt_blocks(&mut self, blocks: &mut [[u8; BLOCK_LEN]]) {
        match &mut self.inner {
            Inner::Soft(soft) => soft.encrypt_blocks(blocks),
            #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
            Inner::Hardware(..) => {
                // ECB through the CTR kernel: XOR each block with E(block) ^ block.
                for block in blocks {
                    let counter = u128::from_be_bytes(*block);
                    let mut out = [0u8; BLOCK_LEN];
                    self.run(counter, Data::InPlace(&mut out));
                    *block = out;
                }
            }
        }
    }

    fn xor_keystream_in_place(&mut self, counter: u128, buf: &mut [u8]) {
        self.run(counter, Data::InPlace(buf));
    }

    fn xor_keystream(&mut self, counter: u128, input: &[u8], output: &mut [u8]) {
        let len = input.len().min(output.len());
        self.run(
            counter,
            Data::Copy {
                input: &input[..len],
                output: &mut output[..len],
            },
        );
    }
}

impl ZeroizeOnDrop for Engine {}

impl core::fmt::Debug for Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Engine")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// The bytes a backend transforms: one buffer in place, or an input copied into an output.
#[derive(Debug)]
pub(crate) enum Data<'a> {
    /// XOR into this buffer.
    InPlace(&'a mut [u8]),
    /// `output = input ^ keystream`; both have the same length.
    Copy {
        input: &'a [u8],
        output: &'a mut [u8],
    },
}

impl<'a> Data<'a> {
    pub(crate) fn len(&self) -> usize {
        match self {
            Data::InPlace(buf) => buf.len(),
            Data::Copy { output, .. } => output.len(),
        }
    }

    pub(crate) fn split_at(self, mid: usize) -> (Data<'a>, Data<'a>) {
        match self {
            Data::InPlace(buf) => {
                let (a, b) = buf.split_at_mut(mid);
                (Data::InPlace(a), Data::InPlace(b))
            }
            Data::Copy { input, output } => {
                let (ia, ib) = input.split_at(mid);
                let (oa, ob) = output.split_at_mut(mid);
                (
                    Data::Copy {
                        input: ia,
                        output: oa,
                    },
                    Data::Copy {
                        input: ib,
                        output: ob,
                    },
                )
            }
        }
    }

    /// XORs the first `self.len()` bytes of `keystream` into the data.
    pub(crate) fn xor_from(self, keystream: &[u8]) {
        match self {
            Data::InPlace(buf) => buf.iter_mut().zip(keystream).for_each(|(b, k)| *b ^= k),
            Data::Copy { input, output } => output
                .iter_mut()
                .zip(input.iter().zip(keystream))
                .for_each(|(o, (i, k))| *o = i ^ k),
        }
    }
}

/// An AES-256-CTR keystream positioned at a byte offset.
///
/// `B` is the AES block source: the built-in [`Engine`] by default, or an MCU peripheral
/// through [`BlockCipher256`] and [`Keystream::with_cipher`].
///
/// Round keys and the counter are zeroized on drop; `Debug` prints no key material.
pub struct Keystream<B: BlockCipher256 = Engine> {
    cipher: B,
    counter: u128,
    position: u64,
}

impl Keystream {
    /// Creates a keystream for `key` whose block 0 uses `counter` as the counter block.
    ///
    /// # Panics
    /// As [`Engine::new`]: only when a forced backend cannot run on this CPU.
    pub fn new(key: &[u8; 32], counter: &[u8; 16]) -> Self {
        Self::with_cipher(Engine::new(key), counter)
    }

    /// The backend the keystream runs on.
    pub fn backend(&self) -> Backend {
        self.cipher.backend()
    }
}

impl<B: BlockCipher256> Keystream<B> {
    /// Creates a keystream over `cipher` (already keyed) whose block 0 uses `counter`.
    pub fn with_cipher(cipher: B, counter: &[u8; 16]) -> Self {
        Self {
            cipher,
            counter: u128::from_be_bytes(*counter),
            position: 0,
        }
    }

    /// Moves to byte `offset` of the stream (block `offset / 16`, byte `offset % 16`).
    pub fn seek(&mut self, offset: u64) {
        self.position = offset;
    }

    /// The byte offset of the next keystream byte.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// XORs the keystream into `buf` in place and advances by `buf.len()` bytes.
    pub fn apply(&mut self, buf: &mut [u8]) {
        self.run(Data::InPlace(buf));
    }

    /// Writes `input` XOR keystream into `output` and advances by `input.len()` bytes.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when the two slices differ in length; nothing is written.
    pub fn apply_to(&mut self, input: &[u8], output: &mut [u8]) -> Result<(), Error> {
        if input.len() != output.len() {
            return Err(Error::LengthMismatch);
        }
        self.run(Data::Copy { input, output });
        Ok(())
    }

    fn run(&mut self, data: Data<'_>) {
        let len = data.len();
        let skip = (self.position % BLOCK_LEN as u64) as usize;
        let mut start = self.position;
        let data = if skip != 0 && len != 0 {
            // Leading partial block: one keystream block, its first `skip` bytes discarded.
            let mut block = [0u8; BLOCK_LEN];
            self.cipher
                .xor_keystream_in_place(self.counter_at(start), &mut block);
            let (head, rest) = data.split_at(len.min(BLOCK_LEN - skip));
            head.xor_from(&block[skip..]);
            block.zeroize();
            start = start.wrapping_add((BLOCK_LEN - skip) as u64);
            rest
        } else {
            data
        };
        if data.len() != 0 {
            let counter = self.counter_at(start);
            match data {
                Data::InPlace(buf) => self.cipher.xor_keystream_in_place(counter, buf),
                Data::Copy { input, output } => self.cipher.xor_keystream(counter, input, output),
            }
        }
        self.position = self.position.wrapping_add(len as u64);
    }

    /// The counter block of the block holding byte `offset`.
    fn counter_at(&self, offset: u64) -> u128 {
        self.counter
            .wrapping_add(u128::from(offset / BLOCK_LEN as u64))
    }
}

impl<B: BlockCipher256> Drop for Keystream<B> {
    fn drop(&mut self) {
        self.counter.zeroize();
        self.position.zeroize();
    }
}

impl<B: BlockCipher256 + ZeroizeOnDrop> ZeroizeOnDrop for Keystream<B> {}

impl<B: BlockCipher256> core::fmt::Debug for Keystream<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Keystream")
            .field("position", &self.position)
            .finish_non_exhaustive()
    }
}

//! x86-64 backends: fused counter → AES → XOR kernels on AES-NI (xmm), VAES-256 (ymm) and
//! VAES-512 (zmm).
//!
//! A [`Kernel`] value exists only after runtime detection confirmed that the CPU has the
//! instructions its kernel uses; every `unsafe` call below relies on that.

use core::sync::atomic::{AtomicU8, Ordering};

use super::{BLOCK_LEN, Backend, Data, RoundKeys, schedule};

mod aesni;
mod vaes256;
mod vaes512;

cpufeatures::new!(aesni_cpuid, "aes", "ssse3");
cpufeatures::new!(avx2_cpuid, "aes", "avx2");
cpufeatures::new!(vaes512_cpuid, "aes", "avx512f", "avx512bw", "vaes");

const DETECTED: u8 = 1 << 7;
const HAS_AESNI: u8 = 1;
const HAS_VAES256: u8 = 1 << 1;
const HAS_VAES512: u8 = 1 << 2;

/// Out-of-place calls at least this long use non-temporal stores (VAES-512 kernel).
const STREAM_MIN_LEN: usize = 4 << 20;

/// Detection result, computed once (bit 7 set once filled in).
static FEATURES: AtomicU8 = AtomicU8::new(0);

fn features() -> u8 {
    let cached = FEATURES.load(Ordering::Relaxed);
    if cached & DETECTED != 0 {
        return cached;
    }
    let mut found = DETECTED;
    if aesni_cpuid::get() {
        found |= HAS_AESNI;
    }
    // cpufeatures ties "vaes" to AVX-512 register state, which a VAES + AVX2 CPU without
    // AVX-512 (Zen 3, Alder Lake) lacks, so read the VAES bit (CPUID.(7,0):ECX[9]) directly.
    if avx2_cpuid::get() && aesni_cpuid::get() {
        // `__cpuid_count` is a safe function since Rust 1.94 and unsafe before it.
        #[allow(unused_unsafe)]
        // SAFETY: CPUID leaf 7 exists on every CPU with AVX2 (just checked); reading it has
        // no side effects.
        let leaf7 = unsafe { core::arch::x86_64::__cpuid_count(7, 0) };
        if leaf7.ecx & (1 << 9) != 0 {
            found |= HAS_VAES256;
        }
    }
    if vaes512_cpuid::get() {
        found |= HAS_VAES512;
    }
    FEATURES.store(found, Ordering::Relaxed);
    found
}

/// Whether this CPU can run `backend`.
pub(super) fn available(backend: Backend) -> bool {
    let bit = match backend {
        Backend::AesNi => HAS_AESNI,
        Backend::Vaes256 => HAS_VAES256,
        Backend::Vaes512 => HAS_VAES512,
        _ => return false,
    };
    features() & bit != 0
}

/// A detected x86 kernel; constructible only through [`Kernel::new`], which checks the CPU.
#[derive(Clone, Copy, Debug)]
pub(super) struct Kernel(Backend);

impl Kernel {
    /// The kernel for `backend`, if this CPU supports it.
    pub(super) fn new(backend: Backend) -> Option<Self> {
        available(backend).then_some(Kernel(backend))
    }

    pub(super) fn backend(self) -> Backend {
        self.0
    }

    pub(super) fn expand_key(self, key: &[u8; 32]) -> RoundKeys {
        schedule::expand_key(key, |word| {
            // SAFETY: every x86 kernel requires AES-NI + SSSE3, confirmed by `Kernel::new`.
            unsafe { aesni::sub_word(word) }
        })
    }

    /// XORs the keystream of `data.len() / 16` whole blocks, block `i` using `counter + i`.
    /// The low 64 bits of the counter must not wrap inside the call (see `run_split`).
    pub(super) fn xor_blocks(self, round_keys: &RoundKeys, counter: u128, data: Data<'_>) {
        let blocks = data.len() / BLOCK_LEN;
        // Large out-of-place writes bypass the cache (as glibc's memcpy does above its
        // non-temporal threshold): the destination is not read for ownership first.
        let stream = matches!(&data, Data::Copy { output, .. }
            if output.len() >= STREAM_MIN_LEN && (output.as_ptr() as usize).is_multiple_of(16));
        let (input, output) = match data {
            Data::InPlace(buf) => {
                let ptr = buf.as_mut_ptr();
                (ptr.cast_const(), ptr)
            }
            Data::Copy { input, output } => {
                assert_eq!(input.len(), output.len());
                (input.as_ptr(), output.as_mut_ptr())
            }
        };
        match self.0 {
            // SAFETY: `Kernel::new` confirmed AVX-512F/BW + VAES + AES-NI; `input` and
            // `output` are valid for `blocks * 16` bytes (derived from slices at least that
            // long) and are either the same buffer or two non-overlapping borrows.
            Backend::Vaes512 => unsafe {
                vaes512::xor_blocks(round_keys, counter, input, output, blocks, stream)
            },
            // SAFETY: as above, with AVX2 + VAES + AES-NI confirmed by `Kernel::new`.
            Backend::Vaes256 => unsafe {
                vaes256::xor_blocks(round_keys, counter, input, output, blocks)
            },
            // SAFETY: as above, with AES-NI + SSSE3 confirmed by `Kernel::new`.
            _ => unsafe { aesni::xor_blocks(round_keys, counter, input, output, blocks) },
        }
    }
}

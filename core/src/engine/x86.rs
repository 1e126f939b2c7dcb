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

cpufeatures::new!(aes_cpuid, "aes");
cpufeatures::new!(ssse3_cpuid, "ssse3");
cpufeatures::new!(avx2_cpuid, "avx2");
cpufeatures::new!(avx512f_cpuid, "avx512f");
cpufeatures::new!(avx512bw_cpuid, "avx512bw");

const DETECTED: u8 = 1 << 7;
/// CPU features the kernels use, with their `/proc/cpuinfo` / `target_feature` names.
const FEATURES_BY_BIT: [(u8, &str); 6] = [
    (1, "aes"),
    (1 << 1, "ssse3"),
    (1 << 2, "avx2"),
    (1 << 3, "vaes"),
    (1 << 4, "avx512f"),
    (1 << 5, "avx512bw"),
];

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
    let detected = [
        aes_cpuid::get(),
        ssse3_cpuid::get(),
        avx2_cpuid::get(),
        vaes(),
        avx512f_cpuid::get(),
        avx512bw_cpuid::get(),
    ];
    for ((bit, _), has) in FEATURES_BY_BIT.iter().zip(detected) {
        if has {
            found |= bit;
        }
    }
    FEATURES.store(found, Ordering::Relaxed);
    found
}

/// The VAES bit (CPUID.(7,0):ECX[9]), counted only where the OS saves ymm state (AVX2
/// detected). cpufeatures ties "vaes" to AVX-512 register state, which a VAES + AVX2 CPU
/// without AVX-512 (Zen 3, Alder Lake) lacks, so the bit is read directly.
fn vaes() -> bool {
    if !avx2_cpuid::get() {
        return false;
    }
    // `__cpuid_count` is a safe function since Rust 1.94 and unsafe before it.
    #[allow(unused_unsafe)]
    // SAFETY: CPUID leaf 7 exists on every CPU with AVX2 (just checked); reading it has no
    // side effects.
    let leaf7 = unsafe { core::arch::x86_64::__cpuid_count(7, 0) };
    leaf7.ecx & (1 << 9) != 0
}

/// The CPU features each backend's kernel needs (the VAES kernels finish short tails with the
/// AES-NI kernel, hence `ssse3`).
fn needs(backend: Backend) -> &'static [&'static str] {
    match backend {
        Backend::AesNi => &["aes", "ssse3"],
        Backend::Vaes256 => &["aes", "ssse3", "avx2", "vaes"],
        Backend::Vaes512 => &["aes", "ssse3", "avx512f", "avx512bw", "vaes"],
        _ => &[],
    }
}

/// The first feature `backend` needs that `features` (a detection bit set) lacks.
fn first_missing(features: u8, backend: Backend) -> Option<&'static str> {
    match backend {
        Backend::AesNi | Backend::Vaes256 | Backend::Vaes512 => {
            needs(backend).iter().copied().find(|name| {
                FEATURES_BY_BIT
                    .iter()
                    .any(|(bit, feature)| feature == name && features & bit == 0)
            })
        }
        Backend::Armv8 => Some("aarch64"),
        Backend::Soft => None,
    }
}

/// The first CPU feature `backend` needs that this CPU lacks (`None`: it can run here).
pub(super) fn missing_cpu_feature(backend: Backend) -> Option<&'static str> {
    first_missing(features(), backend)
}

/// Whether this CPU can run `backend`.
pub(super) fn available(backend: Backend) -> bool {
    backend != Backend::Soft && missing_cpu_feature(backend).is_none()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_missing_names_the_feature() {
        let all = FEATURES_BY_BIT
            .iter()
            .fold(DETECTED, |acc, (bit, _)| acc | bit);
        for backend in [Backend::AesNi, Backend::Vaes256, Backend::Vaes512] {
            assert_eq!(first_missing(all, backend), None);
        }
        let without = |name: &str| {
            FEATURES_BY_BIT
                .iter()
                .filter(|(_, f)| *f != name)
                .fold(DETECTED, |acc, (bit, _)| acc | bit)
        };
        assert_eq!(
            first_missing(without("avx512bw"), Backend::Vaes512),
            Some("avx512bw")
        );
        assert_eq!(first_missing(without("avx512bw"), Backend::Vaes256), None);
        assert_eq!(
            first_missing(without("vaes"), Backend::Vaes256),
            Some("vaes")
        );
        assert_eq!(
            first_missing(without("avx2"), Backend::Vaes256),
            Some("avx2")
        );
        assert_eq!(first_missing(without("aes"), Backend::AesNi), Some("aes"));
        assert_eq!(first_missing(all, Backend::Armv8), Some("aarch64"));
    }
}

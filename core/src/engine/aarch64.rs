//! aarch64 backend: ARMv8 cryptography extensions (`AESE`/`AESMC`), 8 blocks interleaved.
//!
//! A [`Kernel`] value exists only after runtime detection confirmed the AES instructions;
//! every `unsafe` call below relies on that.

use super::{BLOCK_LEN, Backend, Data, RoundKeys, schedule};

mod armv8;

cpufeatures::new!(aes_cpuid, "aes");

/// The first CPU feature `backend` needs that this CPU lacks (`None`: it can run here).
pub(super) fn missing_cpu_feature(backend: Backend) -> Option<&'static str> {
    match backend {
        Backend::Armv8 if aes_cpuid::get() => None,
        Backend::Armv8 => Some("aes"),
        Backend::Soft => None,
        _ => Some("x86_64"),
    }
}

/// Whether this CPU can run `backend`.
pub(super) fn available(backend: Backend) -> bool {
    backend == Backend::Armv8 && missing_cpu_feature(backend).is_none()
}

/// The detected ARMv8 kernel; constructible only through [`Kernel::new`], which checks the CPU.
#[derive(Clone, Copy, Debug)]
pub(super) struct Kernel(());

impl Kernel {
    /// The kernel for `backend`, if this CPU supports it.
    pub(super) fn new(backend: Backend) -> Option<Self> {
        available(backend).then_some(Kernel(()))
    }

    pub(super) fn backend(self) -> Backend {
        Backend::Armv8
    }

    pub(super) fn expand_key(self, key: &[u8; 32]) -> RoundKeys {
        schedule::expand_key(key, |word| {
            // SAFETY: `Kernel::new` confirmed the AES extension.
            unsafe { armv8::sub_word(word) }
        })
    }

    /// XORs the keystream of `data.len() / 16` whole blocks, block `i` using `counter + i`.
    pub(super) fn xor_blocks(self, round_keys: &RoundKeys, counter: u128, data: Data<'_>) {
        let blocks = data.len() / BLOCK_LEN;
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
        // SAFETY: `Kernel::new` confirmed the AES extension; `input` and `output` are valid
        // for `blocks * 16` bytes (derived from slices at least that long) and are either the
        // same buffer or two non-overlapping borrows.
        unsafe { armv8::xor_blocks(round_keys, counter, input, output, blocks) }
    }
}

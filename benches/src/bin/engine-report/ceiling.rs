//! The hardware ceiling of AES-256-CTR on this machine, measured in the report's own run
//! (PERFORMANCE.md, "Physical limits"): the core clock from a dependent `add` chain, and the
//! throughput of `vaesenc zmm`, `vaesenc ymm` and `aesenc xmm` from independent chains.
//!
//! A CTR block needs 14 AES round instructions (13 `aesenc` + 1 `aesenclast`; the whitening
//! XOR, counter update and data XOR run on other ports), so an instruction width of `w` bytes
//! issued at `r` instructions per second bounds the keystream at `r * w / 14` bytes per second.
//! The probes are x86-64 inline assembly, so the instruction mix is exactly the one named.
#![cfg(target_arch = "x86_64")]
#![allow(unsafe_code)]

use super::cputime::Stamp;

use osscse_core::engine::Backend;

/// Dependent adds per loop iteration of the clock probe.
const ADDS: u64 = 16;
/// Independent chains of the throughput probe (more than latency × throughput on any core).
const CHAINS: u64 = 12;
/// Unrolled rounds per chain and iteration.
const UNROLL: u64 = 4;
/// AES instructions per 16-byte lane of keystream (AES-256).
const ROUNDS: f64 = 14.0;

/// The AES instruction width a backend issues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Width {
    /// `aesenc xmm` (16 bytes).
    Xmm,
    /// `vaesenc ymm` (32 bytes).
    Ymm,
    /// `vaesenc zmm` (64 bytes).
    Zmm,
}

impl Width {
    /// Bytes per instruction.
    pub(crate) fn bytes(self) -> f64 {
        match self {
            Width::Xmm => 16.0,
            Width::Ymm => 32.0,
            Width::Zmm => 64.0,
        }
    }

    /// The instruction as printed.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Width::Xmm => "aesenc xmm",
            Width::Ymm => "vaesenc ymm",
            Width::Zmm => "vaesenc zmm",
        }
    }

    /// Whether this CPU runs the instruction (its backend is available).
    pub(crate) fn available(self) -> bool {
        let backend = match self {
            Width::Xmm => Backend::AesNi,
            Width::Ymm => Backend::Vaes256,
            Width::Zmm => Backend::Vaes512,
        };
        backend.is_available()
    }
}

/// Core clock in Hz: a dependent chain of register-register `add`s retires one per cycle.
/// (Not `add reg, imm`: Golden Cove and later fold immediate adds at rename, which makes
/// such a chain run faster than one per cycle.)
pub(crate) fn clock_hz() -> f64 {
    const ITERS: u64 = 1_000_000;
    let start = Stamp::now();
    // SAFETY: register-only arithmetic on two scratch registers; no memory, no stack.
    unsafe {
        core::arch::asm!(
            "2:",
            ".rept 16",
            "add {x}, {one}",
            ".endr",
            "dec {n}",
            "jnz 2b",
            x = inout(reg) 0u64 => _,
            one = in(reg) 1u64,
            n = inout(reg) ITERS => _,
            options(nomem, nostack),
        );
    }
    (ITERS * ADDS) as f64 / start.elapsed_secs()
}

/// AES instructions per second over `CHAINS` independent chains of `width`.
pub(crate) fn aes_rate(width: Width) -> f64 {
    const ITERS: u64 = 200_000;
    let start = Stamp::now();
    match width {
        // SAFETY: the probes need AES-NI / VAES + AVX2 / VAES + AVX-512F, which
        // `Width::available` confirmed before the report calls them (checked below).
        Width::Xmm if width.available() => unsafe { xmm(ITERS) },
        // SAFETY: as above.
        Width::Ymm if width.available() => unsafe { ymm(ITERS) },
        // SAFETY: as above.
        Width::Zmm if width.available() => unsafe { zmm(ITERS) },
        _ => return 0.0,
    }
    (ITERS * CHAINS * UNROLL) as f64 / start.elapsed_secs()
}

/// Cycles of one `width` instruction in a dependent chain (its latency), given the clock.
pub(crate) fn aes_latency(width: Width, clock_hz: f64) -> f64 {
    const ITERS: u64 = 100_000;
    if !width.available() {
        return 0.0;
    }
    let start = Stamp::now();
    // SAFETY: the CPU has the instruction (`Width::available`).
    unsafe { chain(width, ITERS) };
    start.elapsed_secs() * clock_hz / (ITERS * 16) as f64
}

/// The AES-256-CTR keystream ceiling in GB/s for `rate` instructions per second of `width`.
pub(crate) fn ceiling_gbps(width: Width, rate: f64) -> f64 {
    rate * width.bytes() / ROUNDS / 1e9
}

/// `CHAINS` chains × `UNROLL` rounds of `aesenc xmm` per iteration.
///
/// # Safety
/// The CPU must support AES-NI.
#[target_feature(enable = "aes,sse2")]
unsafe fn xmm(iters: u64) {
    // SAFETY: register-only AES rounds on the clobbered registers (caller checked AES-NI).
    unsafe {
        core::arch::asm!(
            "pxor xmm12, xmm12",
            "2:",
            ".rept 4",
            "aesenc xmm0, xmm12", "aesenc xmm1, xmm12", "aesenc xmm2, xmm12",
            "aesenc xmm3, xmm12", "aesenc xmm4, xmm12", "aesenc xmm5, xmm12",
            "aesenc xmm6, xmm12", "aesenc xmm7, xmm12", "aesenc xmm8, xmm12",
            "aesenc xmm9, xmm12", "aesenc xmm10, xmm12", "aesenc xmm11, xmm12",
            ".endr",
            "dec {n}",
            "jnz 2b",
            n = inout(reg) iters => _,
            out("xmm0") _, out("xmm1") _, out("xmm2") _, out("xmm3") _,
            out("xmm4") _, out("xmm5") _, out("xmm6") _, out("xmm7") _,
            out("xmm8") _, out("xmm9") _, out("xmm10") _, out("xmm11") _, out("xmm12") _,
            options(nomem, nostack),
        );
    }
}

/// `CHAINS` chains × `UNROLL` rounds of `vaesenc ymm` per iteration.
///
/// # Safety
/// The CPU must support AVX2 and VAES.
#[target_feature(enable = "avx2,vaes")]
unsafe fn ymm(iters: u64) {
    // SAFETY: register-only AES rounds on the clobbered registers (caller checked VAES).
    unsafe {
        core::arch::asm!(
            "vpxor ymm12, ymm12, ymm12",
            "2:",
            ".rept 4",
            "vaesenc ymm0, ymm0, ymm12", "vaesenc ymm1, ymm1, ymm12",
            "vaesenc ymm2, ymm2, ymm12", "vaesenc ymm3, ymm3, ymm12",
            "vaesenc ymm4, ymm4, ymm12", "vaesenc ymm5, ymm5, ymm12",
            "vaesenc ymm6, ymm6, ymm12", "vaesenc ymm7, ymm7, ymm12",
            "vaesenc ymm8, ymm8, ymm12", "vaesenc ymm9, ymm9, ymm12",
            "vaesenc ymm10, ymm10, ymm12", "vaesenc ymm11, ymm11, ymm12",
            ".endr",
            "dec {n}",
            "jnz 2b",
            "vzeroupper",
            n = inout(reg) iters => _,
            out("ymm0") _, out("ymm1") _, out("ymm2") _, out("ymm3") _,
            out("ymm4") _, out("ymm5") _, out("ymm6") _, out("ymm7") _,
            out("ymm8") _, out("ymm9") _, out("ymm10") _, out("ymm11") _, out("ymm12") _,
            options(nomem, nostack),
        );
    }
}

/// `CHAINS` chains × `UNROLL` rounds of `vaesenc zmm` per iteration.
///
/// # Safety
/// The CPU must support AVX-512F and VAES.
#[target_feature(enable = "avx512f,vaes")]
unsafe fn zmm(iters: u64) {
    // SAFETY: register-only AES rounds on the clobbered registers (caller checked VAES-512).
    unsafe {
        core::arch::asm!(
            "vpxord zmm12, zmm12, zmm12",
            "2:",
            ".rept 4",
            "vaesenc zmm0, zmm0, zmm12", "vaesenc zmm1, zmm1, zmm12",
            "vaesenc zmm2, zmm2, zmm12", "vaesenc zmm3, zmm3, zmm12",
            "vaesenc zmm4, zmm4, zmm12", "vaesenc zmm5, zmm5, zmm12",
            "vaesenc zmm6, zmm6, zmm12", "vaesenc zmm7, zmm7, zmm12",
            "vaesenc zmm8, zmm8, zmm12", "vaesenc zmm9, zmm9, zmm12",
            "vaesenc zmm10, zmm10, zmm12", "vaesenc zmm11, zmm11, zmm12",
            ".endr",
            "dec {n}",
            "jnz 2b",
            "vzeroupper",
            n = inout(reg) iters => _,
            out("zmm0") _, out("zmm1") _, out("zmm2") _, out("zmm3") _,
            out("zmm4") _, out("zmm5") _, out("zmm6") _, out("zmm7") _,
            out("zmm8") _, out("zmm9") _, out("zmm10") _, out("zmm11") _, out("zmm12") _,
            options(nomem, nostack),
        );
    }
}

/// 16 dependent instructions of `width` per iteration (the latency probe).
///
/// # Safety
/// The CPU must support the instruction (`Width::available`).
unsafe fn chain(width: Width, iters: u64) {
    match width {
        // SAFETY: forwarded from the caller.
        Width::Xmm => unsafe { chain_xmm(iters) },
        // SAFETY: forwarded from the caller.
        Width::Ymm => unsafe { chain_ymm(iters) },
        // SAFETY: forwarded from the caller.
        Width::Zmm => unsafe { chain_zmm(iters) },
    }
}

/// # Safety
/// The CPU must support AES-NI.
#[target_feature(enable = "aes,sse2")]
unsafe fn chain_xmm(iters: u64) {
    // SAFETY: register-only AES rounds on the clobbered registers.
    unsafe {
        core::arch::asm!(
            "pxor xmm1, xmm1", "2:", ".rept 16", "aesenc xmm0, xmm1", ".endr",
            "dec {n}", "jnz 2b",
            n = inout(reg) iters => _, out("xmm0") _, out("xmm1") _,
            options(nomem, nostack),
        );
    }
}

/// # Safety
/// The CPU must support AVX2 and VAES.
#[target_feature(enable = "avx2,vaes")]
unsafe fn chain_ymm(iters: u64) {
    // SAFETY: register-only AES rounds on the clobbered registers.
    unsafe {
        core::arch::asm!(
            "vpxor ymm1, ymm1, ymm1", "2:", ".rept 16", "vaesenc ymm0, ymm0, ymm1", ".endr",
            "dec {n}", "jnz 2b", "vzeroupper",
            n = inout(reg) iters => _, out("ymm0") _, out("ymm1") _,
            options(nomem, nostack),
        );
    }
}

/// # Safety
/// The CPU must support AVX-512F and VAES.
#[target_feature(enable = "avx512f,vaes")]
unsafe fn chain_zmm(iters: u64) {
    // SAFETY: register-only AES rounds on the clobbered registers.
    unsafe {
        core::arch::asm!(
            "vpxord zmm1, zmm1, zmm1", "2:", ".rept 16", "vaesenc zmm0, zmm0, zmm1", ".endr",
            "dec {n}", "jnz 2b", "vzeroupper",
            n = inout(reg) iters => _, out("zmm0") _, out("zmm1") _,
            options(nomem, nostack),
        );
    }
}

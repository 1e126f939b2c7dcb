//! osscse-embedded firmware example for QEMU `mps2-an386` (Cortex-M4F), run with semihosting.
//!
//! With the fixed inputs of `fixture.rs` it seals an object (data key and IV from the CTR_DRBG
//! with a counter IV prefix, both wrapped into the CSE envelope: osscse-embedded's
//! `SealedObject` over osscse-core's `RsaMasterKey`, or `AesGcmMasterKey` in the `symmetric`
//! build), encrypts a telemetry payload chunk by
//! chunk, signs the PUT with V4 and prints the public results as `name=value` lines. `hal-embedded/tests/firmware.rs` recomputes every
//! line with osscse-core on the host. Nothing secret is printed.
//!
//! This is the only place of the project outside `core/src/engine` with `unsafe`: a bare-metal
//! binary must hand its heap memory to the allocator and implement `GlobalAlloc` (to measure the
//! heap high-water mark). Each block carries a `SAFETY:` comment.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

// Links cortex-m's single-core critical-section implementation (used by embedded-alloc).
use cortex_m as _;
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprint, hprintln};
use embedded_alloc::LlffHeap;
use osscse_core::sign::{Credentials, Request, v4};
#[cfg(feature = "symmetric")]
use osscse_core::wrap::AesGcmMasterKey;
#[cfg(feature = "rsa")]
use osscse_core::wrap::RsaMasterKey;
use osscse_embedded::{CtrDrbg, IvPrefix, SealedObject};

#[cfg(feature = "upload")]
mod upload;

#[allow(dead_code)]
mod fixture {
    include!("../fixture.rs");
}

#[cfg(all(feature = "rsa", feature = "symmetric"))]
compile_error!(
    "build either the RSA firmware (default) or --no-default-features --features symmetric"
);
#[cfg(not(any(feature = "rsa", feature = "symmetric")))]
compile_error!("enable one master key: feature rsa (default) or symmetric");

/// Heap size: enough for one RSA-2048 wrap and the V4 signer's strings.
#[cfg(feature = "rsa")]
const HEAP_SIZE: usize = 16 * 1024;
/// Heap size: the AES-GCM wrap needs only the two wrapped values; the rest is the envelope
/// headers and the V4 signer's strings.
#[cfg(feature = "symmetric")]
const HEAP_SIZE: usize = 8 * 1024;

/// `LlffHeap` plus a high-water mark of the bytes in use.
struct TrackingHeap {
    heap: LlffHeap,
    peak: AtomicUsize,
}

impl TrackingHeap {
    fn reset_peak(&self) {
        self.peak.store(self.heap.used(), Ordering::Relaxed);
    }
    fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }
}

// SAFETY: every method forwards to `LlffHeap`, a correct `GlobalAlloc`, with the caller's
// arguments unchanged; the extra bookkeeping only reads `used()`.
unsafe impl GlobalAlloc for TrackingHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's guarantees for `layout`.
        let p = unsafe { self.heap.alloc(layout) };
        self.peak.fetch_max(self.heap.used(), Ordering::Relaxed);
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded; `ptr` was allocated by this allocator with `layout`.
        unsafe { self.heap.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static HEAP: TrackingHeap = TrackingHeap {
    heap: LlffHeap::empty(),
    peak: AtomicUsize::new(0),
};

/// Reports a panic without formatting its message (keeps core::fmt's panic machinery out of
/// flash); the host test sees `result=panic` and a failing exit status.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    fail("panic")
}

fn fail(what: &str) -> ! {
    hprintln!("result=error {}", what);
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
}

/// SysTick ticks (processor clock) to hash 16 KiB with MD5 and with SHA-256. Under QEMU with
/// `-icount shift=0` one instruction is one virtual nanosecond, so ticks × (1e9 / SYSCLK)
/// counts instructions (footprint.sh does the arithmetic).
#[cfg(feature = "payload-md5")]
fn digest_cost() {
    use cortex_m::peripheral::syst::SystClkSource;
    let Some(mut p) = cortex_m::Peripherals::take() else {
        fail("peripherals");
    };
    p.SYST.set_clock_source(SystClkSource::Core);
    p.SYST.set_reload(0x00ff_ffff);
    p.SYST.clear_current();
    p.SYST.enable_counter();
    let data = [0x5au8; 1024];
    let elapsed = |f: &mut dyn FnMut()| {
        let start = cortex_m::peripheral::SYST::get_current();
        f();
        let end = cortex_m::peripheral::SYST::get_current();
        start.wrapping_sub(end) & 0x00ff_ffff
    };
    let mut sink = 0u8;
    let md5_ticks = elapsed(&mut || {
        let mut h = <md5::Md5 as md5::Digest>::new();
        for _ in 0..16 {
            md5::Digest::update(&mut h, core::hint::black_box(&data[..]));
        }
        sink ^= md5::Digest::finalize(h)[0];
    });
    let sha_ticks = elapsed(&mut || {
        let mut h = <sha2::Sha256 as sha2::Digest>::new();
        for _ in 0..16 {
            sha2::Digest::update(&mut h, core::hint::black_box(&data[..]));
        }
        sink ^= sha2::Digest::finalize(h)[0];
    });
    core::hint::black_box(sink);
    hprintln!("md5_16k_ticks={}", md5_ticks);
    hprintln!("sha256_16k_ticks={}", sha_ticks);
}

#[entry]
fn main() -> ! {
    {
        static mut HEAP_MEM: [u8; HEAP_SIZE] = [0; HEAP_SIZE];
        // SAFETY: runs once before any allocation; `HEAP_MEM` is used by nothing else.
        unsafe {
            HEAP.heap
                .init(core::ptr::addr_of_mut!(HEAP_MEM) as usize, HEAP_SIZE)
        }
    }

    // Keys and IVs come only from the CTR_DRBG (fixed seed here so the host can recompute).
    let Ok(mut drbg) = CtrDrbg::instantiate(&fixture::DRBG_SEED, fixture::PERSONALIZATION) else {
        fail("drbg instantiate");
    };
    #[cfg(feature = "rsa")]
    let Ok(master) = RsaMasterKey::from_public_der(fixture::RSA_PUBLIC_KEY_DER) else {
        fail("rsa public key");
    };
    #[cfg(feature = "symmetric")]
    let Ok(master) = AesGcmMasterKey::from_bytes(&fixture::SYMMETRIC_CMK) else {
        fail("symmetric cmk");
    };

    // Seal: data key and IV from the DRBG (counter IV prefix), each wrapped into the CSE
    // envelope (RSA PKCS#1 v1.5 padding, or the AES-GCM nonces, from the same DRBG).
    HEAP.reset_peak();
    let before = HEAP.heap.used();
    let prefix = IvPrefix::new(fixture::IV_DEVICE_TAG, fixture::IV_OBJECT_COUNTER);
    let Ok(sealed) = SealedObject::new(
        &master,
        &mut drbg,
        Some(prefix),
        fixture::PAYLOAD.len() as u64,
    ) else {
        fail("seal");
    };
    let wrap_peak = HEAP.peak() - before;
    for (name, value) in sealed.envelope_headers() {
        hprintln!("header:{}={}", name, value);
    }

    // Encrypt the payload chunk by chunk, as the uploader streams it.
    #[cfg(feature = "payload-md5")]
    let mut md5 = <md5::Md5 as md5::Digest>::new();
    let mut chunk = [0u8; 32];
    hprint!("ciphertext=");
    for (i, part) in fixture::PAYLOAD.chunks(chunk.len()).enumerate() {
        let buf = &mut chunk[..part.len()];
        buf.copy_from_slice(part);
        sealed.encrypt_at((i * 32) as u64, buf);
        #[cfg(feature = "payload-md5")]
        md5::Digest::update(&mut md5, &*buf);
        for b in buf.iter() {
            hprint!("{:02x}", b);
        }
    }
    hprintln!("");

    // Sign the PUT (V4) with the envelope headers, as the uploader sends it.
    let mut headers: Vec<(&str, &str)> = Vec::new();
    headers.push(("Content-Type", fixture::CONTENT_TYPE));
    #[cfg(feature = "payload-md5")]
    let mut md5_text = [0u8; 24];
    #[cfg(feature = "payload-md5")]
    {
        use base64ct::Encoding;
        let digest: [u8; 16] = md5::Digest::finalize(md5).into();
        let Ok(text) = base64ct::Base64::encode(&digest, &mut md5_text) else {
            fail("base64");
        };
        hprintln!("content_md5={}", text);
    }
    #[cfg(feature = "payload-md5")]
    headers.push(("Content-MD5", core::str::from_utf8(&md5_text).unwrap_or("")));
    for (name, value) in sealed.envelope_headers() {
        headers.push((name, value.as_str()));
    }
    let request = Request {
        method: "PUT",
        bucket: Some(fixture::BUCKET),
        key: Some(fixture::OBJECT_KEY),
        query: &[],
        headers: &headers,
    };
    let credentials = Credentials::new(fixture::ACCESS_KEY_ID, fixture::ACCESS_KEY_SECRET);
    let Ok(signed) = v4::sign_headers(
        &request,
        &credentials,
        &v4::Params::new(fixture::REGION),
        fixture::SIGNING_TIME,
    ) else {
        fail("sign");
    };
    match signed.authorization() {
        Some(auth) => hprintln!("authorization={}", auth),
        None => fail("no authorization header"),
    }
    #[cfg(feature = "payload-md5")]
    digest_cost();
    #[cfg(feature = "upload")]
    upload::put(&sealed, &mut drbg);
    hprintln!("heap_wrap_peak_bytes={}", wrap_peak);
    hprintln!("heap_peak_bytes={}", HEAP.peak());
    hprintln!("result=ok");
    debug::exit(debug::EXIT_SUCCESS);
    #[allow(clippy::empty_loop)]
    loop {}
}

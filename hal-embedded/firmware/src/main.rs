//! osscse-embedded firmware example for QEMU `mps2-an386` (Cortex-M4F), run with semihosting.
//!
//! With the fixed inputs of `fixture.rs` it draws a data key and IV from the CTR_DRBG (with a
//! counter IV prefix), encrypts a telemetry payload with the osscse-core engine, RSA-wraps the
//! key and the IV (PKCS#1 v1.5, padding from the same DRBG), signs the PUT with V4 and prints
//! the public results as `name=value` lines. `hal-embedded/tests/firmware.rs` recomputes every
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

use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprint, hprintln};
use embedded_alloc::LlffHeap;
use osscse_core::Keystream;
use osscse_core::sign::{Credentials, Request, v4};
use osscse_embedded::{CtrDrbg, IvPrefix, generate_material};
use panic_semihosting as _;
use rsa::pkcs8::DecodePublicKey;
use rsa::{Pkcs1v15Encrypt, PublicKey};

#[allow(dead_code)]
mod fixture {
    include!("../fixture.rs");
}

/// Heap size: enough for one RSA-2048 wrap and the V4 signer's strings.
const HEAP_SIZE: usize = 16 * 1024;

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

fn hex_line(name: &str, bytes: &[u8]) {
    hprint!("{}=", name);
    for b in bytes {
        hprint!("{:02x}", b);
    }
    hprintln!("");
}

fn fail(what: &str) -> ! {
    hprintln!("result=error {}", what);
    debug::exit(debug::EXIT_FAILURE);
    #[allow(clippy::empty_loop)]
    loop {}
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
    let prefix = IvPrefix::new(fixture::IV_DEVICE_TAG, fixture::IV_OBJECT_COUNTER);
    let Ok(material) = generate_material(&mut drbg, Some(prefix)) else {
        fail("key generation");
    };

    // Encrypt the payload chunk by chunk, as the uploader streams it.
    let mut ciphertext: Vec<u8> = Vec::from(fixture::PAYLOAD);
    let mut keystream = Keystream::new(material.key(), material.iv());
    for chunk in ciphertext.chunks_mut(32) {
        keystream.apply(chunk);
    }
    hex_line("ciphertext", &ciphertext);

    // RSA-wrap the data key and the IV separately (the OSS envelope format).
    HEAP.reset_peak();
    let before = HEAP.heap.used();
    let Ok(public) = PublicKey::from_public_key_der(fixture::RSA_PUBLIC_KEY_DER) else {
        fail("rsa public key");
    };
    let Ok(wrapped_key) = public.encrypt(&mut drbg, Pkcs1v15Encrypt, material.key()) else {
        fail("wrap key");
    };
    let Ok(wrapped_iv) = public.encrypt(&mut drbg, Pkcs1v15Encrypt, material.iv()) else {
        fail("wrap iv");
    };
    let wrap_peak = HEAP.peak() - before;
    drop(public);
    hex_line("wrapped_key", &wrapped_key);
    hex_line("wrapped_iv", &wrapped_iv);

    // Sign the PUT (V4).
    let content_length = alloc::format!("{}", ciphertext.len());
    let headers = [
        ("Content-Type", fixture::CONTENT_TYPE),
        ("Content-Length", content_length.as_str()),
        (
            osscse_core::envelope::HEADER_CEK_ALG,
            osscse_core::envelope::CEK_ALG_AES_CTR,
        ),
        (
            osscse_core::envelope::HEADER_WRAP_ALG,
            osscse_core::envelope::WRAP_ALG_RSA,
        ),
    ];
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
    hprintln!("heap_wrap_peak_bytes={}", wrap_peak);
    hprintln!("heap_peak_bytes={}", HEAP.peak());
    hprintln!("result=ok");
    debug::exit(debug::EXIT_SUCCESS);
    #[allow(clippy::empty_loop)]
    loop {}
}

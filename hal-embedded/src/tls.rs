//! HTTPS for the uploader: TLS 1.3 (embedded-tls, `TLS_AES_128_GCM_SHA256`, P-256) that
//! verifies the server against a CA certificate the application supplies.
//!
//! * [`TlsConnector::new`] pins a CA (DER). Each handshake checks that the server's chain leads
//!   to it (ECDSA P-256/P-384 or Ed25519 signatures; embedded-tls's pure-Rust `rustpki`
//!   verifier), that the leaf certificate's **common name equals the host** the request goes to
//!   (`bucket.endpoint-host` in virtual-hosted style; note that `rustpki` compares the CN, not
//!   the subjectAltName), and that every certificate of the chain is valid at the time of the
//!   connector's own [`WallClock`] (the application's RTC or network time; each connector has
//!   its own, so connectors never share a clock). A failure ends the connection before any
//!   request byte is written: [`UploadError::Tls`](crate::UploadError::Tls).
//! * [`TlsConnector::insecure_without_server_verification`] accepts any server: an active
//!   attacker can impersonate OSS and read the signed request (the body stays encrypted, and
//!   signed payloads still stop them altering it undetected). Only for lab networks.
//! * Randomness (client random, ephemeral key): an AES-256-CTR generator keyed with 384 bits
//!   drawn from the caller's DRBG (the health-tested [`EntropyDrbg`](crate::EntropyDrbg) on a
//!   device) when the connector is made, refreshed with [`TlsConnector::reseed`]. reqwless's own
//!   TLS seeds ChaCha8 from a `u64`; the uploader instead opens the TLS stream itself and hands
//!   reqwless the encrypted connection.
//!
//! Buffers: `read_buffer` must hold a full TLS record, 16 640 bytes (servers may send 16 KiB
//! fragments); `write_buffer` of 4 096 bytes is enough for the uploader's records.

use core::marker::PhantomData;

use embedded_io_async::{Read, Write};
use embedded_tls::pki::CertVerifier;
use embedded_tls::{
    Aes128GcmSha256, Certificate, CryptoProvider, TlsClock, TlsConfig, TlsConnection, TlsContext,
    TlsError, TlsVerifier, UnsecureProvider,
};
use osscse_core::Keystream;
use rand_core::TryCryptoRng;
use zeroize::Zeroize;

pub use crate::clock::{NoWallClock, WallClock};

/// Recommended size of the TLS read buffer: one full record.
pub const READ_BUFFER_LEN: usize = 16_640;
/// Largest server certificate chain kept for the `CertificateVerify` check.
pub const MAX_CERT_CHAIN: usize = 4096;

/// How the server is authenticated.
#[derive(Debug, Clone, Copy)]
enum Verification<'a> {
    Pinned(&'a [u8]),
    None,
}

/// The TLS side of an [`Uploader`](crate::Uploader): verification policy, the wall clock `K`
/// certificate validity is checked against, record buffers and the handshake randomness.
pub struct TlsConnector<'a, K: WallClock> {
    verification: Verification<'a>,
    read_buffer: &'a mut [u8],
    write_buffer: &'a mut [u8],
    rng: TlsRng,
    clock: PhantomData<K>,
}

impl<K: WallClock> core::fmt::Debug for TlsConnector<'_, K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TlsConnector")
            .field(
                "verification",
                &match self.verification {
                    Verification::Pinned(_) => "pinned CA",
                    Verification::None => "NONE (insecure)",
                },
            )
            .finish_non_exhaustive()
    }
}

impl<'a, K: WallClock> TlsConnector<'a, K> {
    /// A connector that accepts only servers whose certificate chains to `ca_der` (an X.509
    /// CA certificate, DER), names the request host and is valid at `clock`'s time (when it
    /// knows the time: see [`WallClock::now`]). Draws 48 bytes from `rng`.
    ///
    /// # Errors
    /// `rng`'s error (e.g. a latched health-test failure); no connector then.
    pub fn new<R: TryCryptoRng + ?Sized>(
        ca_der: &'a [u8],
        read_buffer: &'a mut [u8],
        write_buffer: &'a mut [u8],
        clock: K,
        rng: &mut R,
    ) -> Result<Self, R::Error> {
        let _ = clock;
        Ok(Self {
            verification: Verification::Pinned(ca_der),
            read_buffer,
            write_buffer,
            rng: TlsRng::from_rng(rng)?,
            clock: PhantomData,
        })
    }

    /// **No server authentication**: TLS against eavesdroppers only; anyone who can intercept
    /// the connection can pose as OSS. Prefer [`TlsConnector::new`] with the CA of the endpoint.
    /// `clock` is unused (nothing is verified); pass [`NoWallClock`].
    ///
    /// # Errors
    /// `rng`'s error.
    pub fn insecure_without_server_verification<R: TryCryptoRng + ?Sized>(
        read_buffer: &'a mut [u8],
        write_buffer: &'a mut [u8],
        clock: K,
        rng: &mut R,
    ) -> Result<Self, R::Error> {
        let _ = clock;
        Ok(Self {
            verification: Verification::None,
            read_buffer,
            write_buffer,
            rng: TlsRng::from_rng(rng)?,
            clock: PhantomData,
        })
    }

    /// Whether the server is verified against a pinned CA.
    pub fn verifies_server(&self) -> bool {
        matches!(self.verification, Verification::Pinned(_))
    }

    /// Replaces the handshake generator's key with 48 fresh bytes from `rng`.
    ///
    /// # Errors
    /// `rng`'s error; the old generator is kept then.
    pub fn reseed<R: TryCryptoRng + ?Sized>(&mut self, rng: &mut R) -> Result<(), R::Error> {
        self.rng = TlsRng::from_rng(rng)?;
        Ok(())
    }

    /// Runs the handshake over `tcp` for `host`, checking the server at `K`'s time.
    pub(crate) async fn open<'c, C: Read + Write + 'c>(
        &'c mut self,
        tcp: C,
        host: &'c str,
    ) -> Result<TlsConnection<'c, C, Aes128GcmSha256>, TlsError> {
        let config = TlsConfig::new().with_server_name(host);
        let mut conn = TlsConnection::new(tcp, self.read_buffer, self.write_buffer);
        match self.verification {
            Verification::Pinned(ca) => {
                let config = config.with_ca(Certificate::X509(ca));
                let provider = Verifying::<K> {
                    rng: &mut self.rng,
                    verifier: CertVerifier::new(),
                };
                conn.open(TlsContext::new(&config, provider)).await?;
            }
            Verification::None => {
                let provider = UnsecureProvider::new::<Aes128GcmSha256>(&mut self.rng);
                conn.open(TlsContext::new(&config, provider)).await?;
            }
        }
        Ok(conn)
    }
}

/// The certificate-checking provider.
struct Verifying<'r, K: WallClock> {
    rng: &'r mut TlsRng,
    verifier: CertVerifier<Aes128GcmSha256, ClockOf<K>, MAX_CERT_CHAIN>,
}

impl<K: WallClock> CryptoProvider for Verifying<'_, K> {
    type CipherSuite = Aes128GcmSha256;
    // No client certificate: nothing is ever signed.
    type Signature = [u8; 0];

    fn rng(&mut self) -> impl embedded_tls::CryptoRngCore {
        &mut *self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<Self::CipherSuite>, TlsError> {
        Ok(&mut self.verifier)
    }
}

/// embedded-tls reads its validity clock through a type (`TlsClock::now` takes no `self`):
/// the connector's own `K`, never a process-global value that connectors would race on.
struct ClockOf<K>(PhantomData<K>);

impl<K: WallClock> TlsClock for ClockOf<K> {
    fn now() -> Option<u64> {
        K::now()
    }
}

/// AES-256-CTR output under a key and counter drawn from the DRBG: infallible, as embedded-tls
/// needs, and zeroized on drop.
struct TlsRng {
    keystream: Keystream,
}

impl TlsRng {
    fn from_rng<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, R::Error> {
        let mut seed = [0u8; 48];
        let drawn = rng.try_fill_bytes(&mut seed);
        let mut key = [0u8; 32];
        let mut iv = [0u8; 16];
        key.copy_from_slice(&seed[..32]);
        iv.copy_from_slice(&seed[32..]);
        let keystream = Keystream::new(&key, &iv);
        seed.zeroize();
        key.zeroize();
        iv.zeroize();
        drawn?;
        Ok(Self { keystream })
    }
}

impl rand_core_06::RngCore for TlsRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        dest.fill(0);
        self.keystream.apply(dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core_06::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core_06::CryptoRng for TlsRng {}

//! The wall clock a TLS connector checks certificate validity against.
//!
//! Each `TlsConnector` (feature `tls`) and [`Uploader`](crate::Uploader) names its
//! clock as a type parameter: embedded-tls asks for the time through a function without
//! `self`, so a value stored in a process-global would be shared by every connector (two
//! connectors with different clocks would race). A device implements [`WallClock`] over its RTC
//! or network time.

/// Unix time for certificate validity checks.
pub trait WallClock {
    /// Seconds since 1970-01-01 UTC now, or `None` when the device does not know the time
    /// (before its first time sync). With `None`, notBefore/notAfter are **not checked** (the
    /// chain and the name still are): an expired or not-yet-valid certificate is accepted.
    fn now() -> Option<u64>;
}

/// No wall clock: certificate validity dates are not checked. The [`Uploader`](crate::Uploader)
/// default (plain HTTP does not look at certificates) and the clock to give
/// `TlsConnector::insecure_without_server_verification` (feature `tls`).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoWallClock;

impl WallClock for NoWallClock {
    fn now() -> Option<u64> {
        None
    }
}

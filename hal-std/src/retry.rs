//! The one retry policy of the crate, shared by OSS and KMS: which failures are retried, how
//! long to wait (full-jitter exponential backoff) and the attempt loop itself.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::transport::TransportErrorKind;

/// How often and how patiently a request is retried.
///
/// Defaults follow the OSS Go SDK v2: 3 attempts in total, base delay 200 ms, at most 20 s.
/// Only 5xx answers, 408, 429 and connection/timeout errors are retried, and only with bodies
/// that can be replayed byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in total (1 = no retry).
    pub max_attempts: u32,
    /// Delay scale of the first retry.
    pub base_delay: Duration,
    /// Upper bound of any delay (also caps `Retry-After`).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Whether an HTTP status is worth retrying.
    pub fn retryable_status(status: u16) -> bool {
        status >= 500 || status == 408 || status == 429
    }

    /// Whether a transport failure is worth retrying (timeouts, failed connects and resets;
    /// not TLS or other configuration failures).
    pub fn retryable_error(kind: TransportErrorKind) -> bool {
        kind.retryable()
    }

    /// The ceiling of the delay before retry number `retry` (1 = first retry):
    /// `min(max_delay, base_delay · 2^(retry-1))`.
    pub fn ceiling(&self, retry: u32) -> Duration {
        let shift = retry.saturating_sub(1).min(30);
        self.base_delay
            .saturating_mul(1u32 << shift)
            .min(self.max_delay)
    }

    /// The delay before retry number `retry`: uniformly random in `[0, ceiling]` ("full
    /// jitter"), or the server's `Retry-After` (capped at `max_delay`) when it sent one.
    /// `random` is a uniformly distributed 64-bit value.
    pub fn delay(&self, retry: u32, random: u64, retry_after: Option<Duration>) -> Duration {
        if let Some(ra) = retry_after {
            return ra.min(self.max_delay);
        }
        let ceiling = self.ceiling(retry).as_nanos() as u64;
        if ceiling == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(random % (ceiling + 1))
    }
}

/// Parses a `Retry-After` header: delay seconds or an HTTP date (relative to `now`).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The attempt loop of one request under a [`RetryPolicy`]: every client (OSS, KMS) drives
/// its attempts with one of these, so the counting and the waiting live here only.
#[derive(Debug)]
pub(crate) struct Attempts {
    policy: RetryPolicy,
    attempt: u32,
}

impl Attempts {
    /// No attempt made yet.
    pub(crate) fn new(policy: RetryPolicy) -> Self {
        Self { policy, attempt: 0 }
    }

    /// Starts the next attempt and returns its number (1 = first).
    pub(crate) fn begin(&mut self) -> u32 {
        self.attempt += 1;
        self.attempt
    }

    /// Attempts made so far.
    pub(crate) fn made(&self) -> u32 {
        self.attempt
    }

    /// Whether another attempt is allowed after the current one.
    pub(crate) fn may_retry(&self) -> bool {
        self.attempt < self.policy.max_attempts.max(1)
    }

    /// After a retryable failure: sleeps the full-jitter delay (or `retry_after`) and returns
    /// `true`, or returns `false` at once when no attempt is left.
    pub(crate) async fn backoff(&mut self, retry_after: Option<Duration>) -> bool {
        if !self.may_retry() {
            return false;
        }
        tokio::time::sleep(self.policy.delay(self.attempt, jitter(), retry_after)).await;
        true
    }
}

/// A uniformly random 64-bit value for the jitter (timing only: falls back to the clock).
fn jitter() -> u64 {
    getrandom::u64().unwrap_or_else(|_| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::from(d.subsec_nanos()))
            .unwrap_or(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        for s in [500, 502, 503, 504, 408, 429] {
            assert!(RetryPolicy::retryable_status(s), "{s}");
        }
        for s in [200, 206, 400, 403, 404, 409, 416] {
            assert!(!RetryPolicy::retryable_status(s), "{s}");
        }
    }

    #[test]
    fn errors() {
        for k in [
            TransportErrorKind::Timeout,
            TransportErrorKind::Connect,
            TransportErrorKind::Reset,
        ] {
            assert!(RetryPolicy::retryable_error(k), "{k}");
        }
        assert!(!RetryPolicy::retryable_error(TransportErrorKind::Tls));
        assert!(!RetryPolicy::retryable_error(TransportErrorKind::Other));
    }

    #[tokio::test]
    async fn attempts_stop_at_the_policy_limit() {
        let mut a = Attempts::new(RetryPolicy {
            base_delay: Duration::ZERO,
            ..RetryPolicy::default()
        });
        let tries = loop {
            let n = a.begin();
            if !a.backoff(None).await {
                break n;
            }
        };
        assert_eq!((tries, a.made()), (3, 3));
        let mut once = Attempts::new(RetryPolicy::none());
        once.begin();
        assert!(!once.backoff(None).await);
    }

    #[test]
    fn full_jitter_stays_under_the_exponential_ceiling() {
        let p = RetryPolicy::default();
        assert_eq!(p.ceiling(1), Duration::from_millis(200));
        assert_eq!(p.ceiling(2), Duration::from_millis(400));
        assert_eq!(p.ceiling(3), Duration::from_millis(800));
        assert_eq!(p.ceiling(40), Duration::from_secs(20));
        let mut seen_small = false;
        let mut seen_large = false;
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..1000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let d = p.delay(3, x, None);
            assert!(d <= Duration::from_millis(800));
            seen_small |= d < Duration::from_millis(200);
            seen_large |= d > Duration::from_millis(600);
        }
        assert!(
            seen_small && seen_large,
            "jitter must spread over the whole window"
        );
        assert_eq!(p.delay(1, 0, None), Duration::ZERO);
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.delay(1, 12345, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            p.delay(1, 12345, Some(Duration::from_secs(3600))),
            Duration::from_secs(20)
        );
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(5));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}

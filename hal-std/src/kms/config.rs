//! [`KmsConfig`]: the KMS endpoint, region, timeouts and retry policy.

use std::time::Duration;

use super::KmsError;
use crate::retry::RetryPolicy;

/// Where and how patiently to call KMS.
#[derive(Debug, Clone)]
pub struct KmsConfig {
    /// Base URL, e.g. `https://kms.cn-hangzhou.aliyuncs.com` or `http://127.0.0.1:9100`.
    pub endpoint: String,
    /// The region sent as `RegionId`, when known.
    pub region: Option<String>,
    /// Retry policy for 5xx answers and connection failures.
    pub retry: RetryPolicy,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Longest wait for any single read or write.
    pub io_timeout: Duration,
}

impl KmsConfig {
    /// The public endpoint of `region`: `https://kms.<region>.aliyuncs.com`.
    ///
    /// # Errors
    /// [`KmsError::Config`] when `region` is empty or not a region name.
    pub fn for_region(region: &str) -> Result<Self, KmsError> {
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(KmsError::Config(format!(
                "{region:?} is not a KMS region name: use one like cn-hangzhou"
            )));
        }
        let mut c = Self::with_endpoint(&format!("https://kms.{region}.aliyuncs.com"))?;
        c.region = Some(region.to_string());
        Ok(c)
    }

    /// An explicit endpoint URL (`http://` or `https://`, no path), e.g. a VPC endpoint or a
    /// loopback test server.
    ///
    /// # Errors
    /// [`KmsError::Config`] when the URL has another scheme or no host.
    pub fn with_endpoint(endpoint: &str) -> Result<Self, KmsError> {
        let rest = endpoint
            .strip_prefix("https://")
            .or_else(|| endpoint.strip_prefix("http://"))
            .ok_or_else(|| {
                KmsError::Config(format!(
                    "KMS endpoint {endpoint:?} must start with https:// or http://"
                ))
            })?;
        let host = rest.trim_end_matches('/');
        if host.is_empty() || host.contains(['/', '?', '#', ' ']) {
            return Err(KmsError::Config(format!(
                "KMS endpoint {endpoint:?} must be a scheme and a host[:port] only"
            )));
        }
        Ok(Self {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            region: None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            io_timeout: Duration::from_secs(30),
        })
    }

    /// The configuration for CLI-style options: an explicit `endpoint` wins (with `region` sent
    /// as `RegionId` when given), else the public endpoint of `region`.
    ///
    /// # Errors
    /// [`KmsError::Config`] when neither is given, or either is malformed.
    pub fn from_options(region: Option<&str>, endpoint: Option<&str>) -> Result<Self, KmsError> {
        let region = region.filter(|r| !r.is_empty());
        match (endpoint.filter(|e| !e.is_empty()), region) {
            (Some(e), r) => Ok(Self::with_endpoint(e)?.region(r.unwrap_or_default())),
            (None, Some(r)) => Self::for_region(r),
            (None, None) => Err(KmsError::Config(
                "KMS needs --kms-region (e.g. cn-hangzhou) or --kms-endpoint".into(),
            )),
        }
    }

    /// Sets the region sent as `RegionId`.
    pub fn region(mut self, region: &str) -> Self {
        self.region = Some(region.to_string()).filter(|r| !r.is_empty());
        self
    }
}

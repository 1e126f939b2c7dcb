//! KMS errors: every one says what went wrong and what to do.

use serde_json::Value;

/// A KMS failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KmsError {
    /// KMS answered with an error (`Code`, `Message`, `RequestId`).
    #[error(
        "KMS {action} failed: HTTP {status} {code}: {message} (RequestId {request_id}, after {attempts} attempt(s)); {}",
        hint(code, *status)
    )]
    Service {
        /// The action called.
        action: &'static str,
        /// HTTP status.
        status: u16,
        /// KMS error code, e.g. `Forbidden.KeyNotFound` (empty when the body had none).
        code: String,
        /// KMS error message.
        message: String,
        /// Request id, for Alibaba Cloud support.
        request_id: String,
        /// Attempts made (retries of 5xx answers included).
        attempts: u32,
    },
    /// KMS could not be reached or the connection failed (after the retries).
    #[error(
        "KMS {action} at {endpoint} failed after {attempts} attempt(s): {source}; check --kms-endpoint/--kms-region and the network"
    )]
    Transport {
        /// The action called.
        action: &'static str,
        /// The endpoint called.
        endpoint: String,
        /// Attempts made.
        attempts: u32,
        /// The transport error.
        #[source]
        source: Box<crate::transport::TransportError>,
    },
    /// A success answer that is not what KMS sends.
    #[error(
        "malformed KMS {action} answer (HTTP {status}): {what}; check that --kms-endpoint is a KMS endpoint"
    )]
    Malformed {
        /// The action called.
        action: &'static str,
        /// HTTP status.
        status: u16,
        /// What is wrong.
        what: String,
    },
    /// A configuration problem.
    #[error("KMS configuration: {0}")]
    Config(String),
    /// An envelope or key-material problem.
    #[error(transparent)]
    Core(#[from] osscse_core::Error),
}

impl KmsError {
    /// An error answer from its status and body.
    pub(super) fn service(action: &'static str, status: u16, attempts: u32, body: &str) -> Self {
        let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let s = |k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        if v.is_object() || status >= 500 {
            Self::Service {
                action,
                status,
                code: s("Code"),
                message: s("Message"),
                request_id: s("RequestId"),
                attempts,
            }
        } else {
            Self::Malformed {
                action,
                status,
                what: "the error answer is not JSON".into(),
            }
        }
    }

    /// The KMS error code, for [`KmsError::Service`].
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The CMK does not exist in this region/account (`Forbidden.KeyNotFound`, `NotFound.*`).
    pub fn is_key_not_found(&self) -> bool {
        self.code()
            .is_some_and(|c| c == "Forbidden.KeyNotFound" || c.starts_with("NotFound"))
    }

    /// The CMK exists but may not be used: disabled, pending deletion, revoked
    /// (`Rejected.Disabled`, `Rejected.PendingDeletion`, `Forbidden.KeyState*`, ...).
    pub fn is_key_unusable(&self) -> bool {
        self.code()
            .is_some_and(|c| c.starts_with("Rejected.") || c.contains("KeyState"))
    }

    /// The request was not authenticated (wrong AccessKey secret, unknown id, bad token).
    pub fn is_auth(&self) -> bool {
        self.code().is_some_and(|c| {
            matches!(
                c,
                "SignatureDoesNotMatch"
                    | "IncompleteSignature"
                    | "InvalidAccessKeyId.NotFound"
                    | "InvalidAccessKeyId"
                    | "InvalidSecurityToken.Expired"
                    | "InvalidSecurityToken.Malformed"
                    | "InvalidSecurityToken.MismatchWithAccessKey"
            )
        })
    }
}

fn hint(code: &str, status: u16) -> &'static str {
    match code {
        "Forbidden.KeyNotFound" => {
            "the CMK does not exist here: check --kms-key-id and that --kms-region is the key's region"
        }
        "Rejected.Disabled" | "Rejected.PendingDeletion" => {
            "the CMK is disabled or being deleted (revoked): enable it in the KMS console, or objects wrapped with it cannot be read"
        }
        c if c.starts_with("Rejected.") || c.contains("KeyState") => {
            "the CMK's state forbids this use: check its state in the KMS console"
        }
        "SignatureDoesNotMatch" | "IncompleteSignature" => {
            "check OSS_ACCESS_KEY_SECRET and the system clock"
        }
        c if c.starts_with("InvalidAccessKeyId") => "check OSS_ACCESS_KEY_ID",
        c if c.starts_with("InvalidSecurityToken") => {
            "the STS token is invalid or expired: get a fresh one"
        }
        c if c.starts_with("Forbidden.") => {
            "the AccessKey may not use this CMK: check its RAM policy"
        }
        "Throttling" | "Throttling.User" => {
            "KMS is throttling: retry later or lower the request rate"
        }
        "InvalidCiphertext" | "Rejected.InvalidCiphertext" => {
            "the wrapped key is not a KMS ciphertext of this account/region: the object header is damaged or from elsewhere"
        }
        _ if status >= 500 => "KMS had a problem: retry later",
        _ => "see the KMS error code documentation",
    }
}

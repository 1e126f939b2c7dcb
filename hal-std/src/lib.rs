//! osscse-std: Alibaba Cloud OSS client-side encryption for std hosts.
#![forbid(unsafe_code)]

//! osscse-tests: loopback OSS-compatible server and the interop and fault suites.
#![forbid(unsafe_code)]

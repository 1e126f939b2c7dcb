//! osscse-benches: shared helpers of the criterion benches and the report binaries.
#![forbid(unsafe_code)]

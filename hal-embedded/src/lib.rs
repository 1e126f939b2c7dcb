//! osscse-embedded: encrypted telemetry uploads from microcontrollers.
#![no_std]
#![forbid(unsafe_code)]

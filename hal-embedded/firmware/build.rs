//! Puts `memory.x` where the linker looks for it (cortex-m-rt's `link.x` includes it).
//! Note: rust-lld also finds a `memory.x` in the current directory first; this package is its
//! own workspace, so cargo runs the linker here and both copies are this same file.

use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("copy memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    println!("cargo:rerun-if-changed=build.rs");
}

//! CTR_DRBG paths the CAVP no-reseed records do not cover (personalization, additional input,
//! reseed, odd lengths, multi-block requests) checked against an independent Python
//! implementation built on `cryptography`'s AES-ECB (`tests/ctr_drbg_ref.py`).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use osscse_embedded::CtrDrbg;

fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("OSSCSE_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    venv.exists().then_some(venv)
}

/// Deterministic test bytes (not random; only distinct).
fn bytes(tag: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u8)
                .wrapping_mul(31)
                .wrapping_add(tag.wrapping_mul(97))
                ^ 0x5a
        })
        .collect()
}

enum Op {
    Inst(Vec<u8>, Vec<u8>),
    Reseed(Vec<u8>, Vec<u8>),
    Gen(usize, Vec<u8>),
}

fn h(b: &[u8]) -> String {
    if b.is_empty() {
        "-".into()
    } else {
        hex::encode(b)
    }
}

#[test]
fn matches_independent_python_implementation() {
    let Some(py) = python() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "Python venv missing under CI=true: run bash scripts/setup-python.sh"
        );
        eprintln!("skipping: no Python venv (run bash scripts/setup-python.sh)");
        return;
    };
    let ops = vec![
        Op::Inst(bytes(1, 48), bytes(2, 48)),
        Op::Gen(1, vec![]),
        Op::Gen(17, bytes(3, 48)),
        Op::Gen(100, bytes(4, 5)),
        Op::Reseed(bytes(5, 48), bytes(6, 20)),
        Op::Gen(1000, vec![]),
        Op::Gen(16, bytes(7, 48)),
        Op::Reseed(bytes(8, 48), vec![]),
        Op::Gen(65536, bytes(9, 1)),
        Op::Gen(33, vec![]),
        Op::Inst(bytes(10, 48), bytes(11, 7)),
        Op::Gen(64, vec![]),
        Op::Gen(0, bytes(12, 48)),
        Op::Gen(48, vec![]),
    ];
    let mut script = String::new();
    let mut ours = Vec::new();
    let mut drbg = None;
    for op in &ops {
        match op {
            Op::Inst(e, p) => {
                script += &format!("inst {} {}\n", h(e), h(p));
                drbg = Some(CtrDrbg::instantiate(e[..].try_into().unwrap(), p).unwrap());
            }
            Op::Reseed(e, a) => {
                script += &format!("reseed {} {}\n", h(e), h(a));
                drbg.as_mut()
                    .unwrap()
                    .reseed(e[..].try_into().unwrap(), a)
                    .unwrap();
            }
            Op::Gen(n, a) => {
                script += &format!("gen {n} {}\n", h(a));
                let mut out = vec![0u8; *n];
                drbg.as_mut().unwrap().generate(&mut out, a).unwrap();
                ours.push(hex::encode(out));
            }
        }
    }
    let script_path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/ctr_drbg_ref.py");
    let mut child = Command::new(&py)
        .arg(script_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "python reference failed");
    let theirs: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(ours.len(), theirs.len());
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "generate #{i} differs from the Python reference");
    }
}

//! One-run AES-256-CTR comparison: the osscse engine, `ctr`+`aes`, OpenSSL and aws-lc-rs in one
//! process, single thread.
//!
//! `cargo run --release -p osscse-benches --bin engine-report`
//!
//! Each figure is the median GB/s (10^9 bytes/s) over `OSSCSE_REPORT_REPS` (default 11)
//! repetitions (after one warm-up); one repetition streams 128 MiB through one cipher object in 16 KiB or 1 MiB
//! calls. Repetitions of the implementations and buffer sizes are interleaved so that noise
//! from other processes hits all of them alike. The last line summarises the in-place figures
//! at the buffer size (16 KiB or 1 MiB) where the engine is slower; the ratios are quotients of
//! figures from that same column. The line before it gives the per-size ratios.
#![forbid(unsafe_code)]

use core::hint::black_box;
use std::time::Instant;

use osscse_benches::{CtrImpl, OsscseEngine, everything, mismatches};

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;
const REP_BYTES: usize = 128 * MIB;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    InPlace,
    OutOfPlace,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One repetition: `REP_BYTES` through `imp` in `size`-byte calls; returns GB/s.
fn rep(imp: &mut dyn CtrImpl, size: usize, mode: Mode, src: &[u8], dst: &mut [u8]) -> f64 {
    let passes = REP_BYTES / size;
    let (src, dst) = (&src[..size], &mut dst[..size]);
    let start = Instant::now();
    for _ in 0..passes {
        match mode {
            Mode::InPlace => imp.in_place(black_box(&mut *dst)),
            Mode::OutOfPlace => imp.out_of_place(black_box(src), black_box(&mut *dst)),
        }
    }
    black_box(&dst);
    (passes * size) as f64 / start.elapsed().as_secs_f64() / 1e9
}

fn main() {
    let reps: usize = std::env::var("OSSCSE_REPORT_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(11)
        .max(1);
    let bad = mismatches();
    if !bad.is_empty() {
        eprintln!("engine-report: these implementations disagree with ctr::Ctr128BE: {bad:?}");
        std::process::exit(1);
    }
    let mut imps = everything();
    let names: Vec<String> = imps.iter().map(|i| i.name()).collect();
    let columns = [
        (16 * KIB, Mode::InPlace, "16KiB in-place"),
        (16 * KIB, Mode::OutOfPlace, "16KiB out-of-place"),
        (MIB, Mode::InPlace, "1MiB in-place"),
        (MIB, Mode::OutOfPlace, "1MiB out-of-place"),
    ];
    let src: Vec<u8> = (0..MIB).map(|i| i as u8).collect();
    let mut dst = vec![0u8; MIB];
    // samples[column][implementation]; every repetition visits every column and
    // implementation in turn, so slow phases of a shared machine hit all figures alike.
    let mut samples = vec![vec![Vec::with_capacity(reps); imps.len()]; columns.len()];
    for r in 0..=reps {
        for (c, &(size, mode, _)) in columns.iter().enumerate() {
            for (i, imp) in imps.iter_mut().enumerate() {
                let gbps = rep(imp.as_mut(), size, mode, &src, &mut dst);
                if r > 0 {
                    samples[c][i].push(gbps); // repetition 0 is the warm-up
                }
            }
        }
    }
    let results: Vec<Vec<f64>> = samples
        .into_iter()
        .map(|col| col.into_iter().map(median).collect())
        .collect();

    println!(
        "AES-256-CTR, single thread, GB/s (median of {reps} x 128 MiB, interleaved), {}",
        cpu_model()
    );
    print!("{:<20}", "implementation");
    for (_, _, title) in &columns {
        print!(" {title:>19}");
    }
    println!();
    for (i, name) in names.iter().enumerate() {
        print!("{name:<20}");
        for col in &results {
            print!(" {:>19.2}", col[i]);
        }
        println!();
    }

    // 64 MiB out of place: the engine against memcpy, interleaved.
    let big = 64 * MIB;
    let big_src: Vec<u8> = (0..big).map(|i| (i * 13) as u8).collect();
    let mut big_dst = vec![0u8; big];
    let mut engine = OsscseEngine::detected();
    let (mut enc, mut copy, mut inplace) = (Vec::new(), Vec::new(), Vec::new());
    let passes = 4;
    for r in 0..=reps {
        let t = Instant::now();
        for _ in 0..passes {
            engine.out_of_place(black_box(&big_src), black_box(&mut big_dst));
        }
        let e = (passes * big) as f64 / t.elapsed().as_secs_f64() / 1e9;
        let t = Instant::now();
        for _ in 0..passes {
            black_box(&mut big_dst).copy_from_slice(black_box(&big_src));
        }
        let m = (passes * big) as f64 / t.elapsed().as_secs_f64() / 1e9;
        let t = Instant::now();
        for _ in 0..passes {
            engine.in_place(black_box(&mut big_dst));
        }
        let p = (passes * big) as f64 / t.elapsed().as_secs_f64() / 1e9;
        if r > 0 {
            enc.push(e);
            copy.push(m);
            inplace.push(p);
        }
    }
    let (enc, copy, inplace) = (median(enc), median(copy), median(inplace));
    println!(
        "64MiB: engine_oop_gbps={enc:.2} memcpy_gbps={copy:.2} ratio_memcpy={:.2} \
         engine_inplace_gbps={inplace:.2}",
        enc / copy
    );

    let find = |prefix: &str| {
        names
            .iter()
            .position(|n| n.starts_with(prefix))
            .expect("implementation present")
    };
    let (e, o, c) = (find("engine ("), find("openssl"), find("ctr+aes"));
    for (col, label) in [(0, "16KiB"), (2, "1MiB")] {
        println!(
            "{label} in-place: ratio_openssl={:.2} ratio_ctr={:.2} ratio_aws_lc={:.2}",
            results[col][e] / results[col][o],
            results[col][e] / results[col][c],
            results[col][e] / results[col][find("aws-lc-rs")],
        );
    }
    // Summary at the size where the engine is slower, all figures from that same column.
    let col = if results[0][e] <= results[2][e] { 0 } else { 2 };
    let (engine_gbps, openssl_gbps, ctr_gbps) = (results[col][e], results[col][o], results[col][c]);
    println!(
        "engine_gbps={engine_gbps:.1} openssl_gbps={openssl_gbps:.1} ctr_gbps={ctr_gbps:.1} \
         ratio_openssl={:.2} ratio_ctr={:.2}",
        engine_gbps / openssl_gbps,
        engine_gbps / ctr_gbps
    );
}

/// The CPU model from /proc/cpuinfo, when there is one.
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string())
}

//! One-run AES-256-CTR comparison: the osscse engine, `ctr`+`aes`, OpenSSL and aws-lc-rs in one
//! process, single thread, against the hardware ceiling measured in the same run.
//!
//! `cargo run --release -p osscse-benches --bin engine-report`
//!
//! Each figure is the median GB/s (10^9 bytes/s) over `OSSCSE_REPORT_REPS` (default 11)
//! repetitions (after one warm-up); one repetition streams 128 MiB through one cipher object in
//! 16 KiB or 1 MiB calls. The `16KiB fresh` column builds a new engine (key schedule) and IV for
//! every 16 KiB message, what every small object pays. Repetitions of the implementations,
//! buffer sizes and ceiling probes are interleaved so that noise from other processes hits all
//! of them alike.
//!
//! The ceiling (x86-64, [`ceiling`]): the core clock from a dependent `add` chain and the
//! throughput of `vaesenc zmm` / `vaesenc ymm` / `aesenc xmm` over independent chains, turned
//! into the AES-256-CTR bound (14 AES instructions per lane). Each engine backend is printed as
//! a fraction of the ceiling of its own instruction width. The last line summarises the in-place
//! figures at the buffer size (16 KiB or 1 MiB) where the engine is slower, with the detected
//! backend's ceiling and fraction; the ratios are quotients of figures from that same column.
#![deny(unsafe_code)]
#![deny(rustdoc::broken_intra_doc_links)]

#[cfg(target_arch = "x86_64")]
#[path = "engine-report/ceiling.rs"]
mod ceiling;
#[path = "engine-report/cputime.rs"]
mod cputime;

use core::hint::black_box;

use osscse_benches::report::{cpu_model, median};
use osscse_benches::{CtrImpl, IV, KEY, OsscseEngine, everything, mismatches};
use osscse_core::engine::{Backend, Engine, Keystream};

use cputime::Stamp;

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;
const REP_BYTES: usize = 128 * MIB;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    InPlace,
    OutOfPlace,
}

/// One repetition: `REP_BYTES` through `imp` in `size`-byte calls; returns GB/s.
fn rep(imp: &mut dyn CtrImpl, size: usize, mode: Mode, src: &[u8], dst: &mut [u8]) -> f64 {
    let passes = REP_BYTES / size;
    let (src, dst) = (&src[..size], &mut dst[..size]);
    let start = Stamp::now();
    for _ in 0..passes {
        match mode {
            Mode::InPlace => imp.in_place(black_box(&mut *dst)),
            Mode::OutOfPlace => imp.out_of_place(black_box(src), black_box(&mut *dst)),
        }
    }
    black_box(&dst);
    (passes * size) as f64 / start.elapsed_secs() / 1e9
}

/// One repetition of the `16KiB fresh` column: `REP_BYTES` in 16 KiB messages, each through
/// a new engine (`backend`, or the detected one) with its own key and IV; returns GB/s.
fn fresh_rep(backend: Option<Backend>, buf: &mut [u8]) -> f64 {
    let size = 16 * KIB;
    let passes = REP_BYTES / size;
    let buf = &mut buf[..size];
    let (mut key, mut iv) = (KEY, IV);
    let start = Stamp::now();
    for pass in 0..passes {
        key[..8].copy_from_slice(&(pass as u64).to_le_bytes());
        iv[8..].copy_from_slice(&(pass as u64).to_be_bytes());
        let engine = match backend {
            Some(b) => Engine::with_backend(black_box(&key), b).expect("backend is available"),
            None => Engine::new(black_box(&key)),
        };
        Keystream::with_cipher(engine, black_box(&iv)).apply(black_box(&mut *buf));
    }
    black_box(&buf);
    (passes * size) as f64 / start.elapsed_secs() / 1e9
}

/// Which engine a row of the table is: `Some(None)` the detected one, `Some(Some(b))` the
/// engine forced onto `b`, `None` another implementation.
fn engine_row(name: &str) -> Option<Option<Backend>> {
    if name.starts_with("engine (") {
        return Some(None);
    }
    Backend::ALL
        .into_iter()
        .find(|b| name == format!("engine-{}", b.name()))
        .map(Some)
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
    let rows: Vec<Option<Option<Backend>>> = names.iter().map(|n| engine_row(n)).collect();
    let columns = [
        (16 * KIB, Mode::InPlace, "16KiB in-place"),
        (16 * KIB, Mode::OutOfPlace, "16KiB out-of-place"),
        (MIB, Mode::InPlace, "1MiB in-place"),
        (MIB, Mode::OutOfPlace, "1MiB out-of-place"),
    ];
    let src: Vec<u8> = (0..MIB).map(|i| i as u8).collect();
    let mut dst = vec![0u8; MIB];
    // samples[column][implementation]; every repetition visits every column, implementation
    // and ceiling probe in turn, so slow phases of a shared machine hit all figures alike.
    let mut samples = vec![vec![Vec::with_capacity(reps); imps.len()]; columns.len()];
    let mut fresh = vec![Vec::with_capacity(reps); imps.len()];
    let mut probes = Probes::default();
    for r in 0..=reps {
        for (c, &(size, mode, _)) in columns.iter().enumerate() {
            for (i, imp) in imps.iter_mut().enumerate() {
                let gbps = rep(imp.as_mut(), size, mode, &src, &mut dst);
                if r > 0 {
                    samples[c][i].push(gbps); // repetition 0 is the warm-up
                }
            }
            probes.sample(r > 0);
        }
        for (i, row) in rows.iter().enumerate() {
            if let Some(backend) = *row {
                let gbps = fresh_rep(backend, &mut dst);
                if r > 0 {
                    fresh[i].push(gbps);
                }
            }
        }
        probes.sample(r > 0);
    }
    let results: Vec<Vec<f64>> = samples
        .into_iter()
        .map(|col| col.into_iter().map(median).collect())
        .collect();
    let fresh: Vec<Option<f64>> = fresh
        .into_iter()
        .map(|v| (!v.is_empty()).then(|| median(v)))
        .collect();

    println!(
        "AES-256-CTR, single thread, GB/s (median of {reps} x 128 MiB, interleaved, timed by {}), {}",
        cputime::KIND,
        cpu_model()
    );
    print!("{:<20}", "implementation");
    for (_, _, title) in &columns {
        print!(" {title:>19}");
    }
    println!(" {:>19}", "16KiB fresh");
    for (i, name) in names.iter().enumerate() {
        print!("{name:<20}");
        for col in &results {
            print!(" {:>19.2}", col[i]);
        }
        match fresh[i] {
            Some(gbps) => println!(" {gbps:>19.2}"),
            None => println!(" {:>19}", "-"),
        }
    }

    // 64 MiB out of place: the engine against memcpy, interleaved.
    let big = 64 * MIB;
    let big_src: Vec<u8> = (0..big).map(|i| (i * 13) as u8).collect();
    let mut big_dst = vec![0u8; big];
    let mut engine = OsscseEngine::detected();
    let (mut enc, mut copy, mut inplace) = (Vec::new(), Vec::new(), Vec::new());
    let passes = 4;
    for r in 0..=reps {
        let t = Stamp::now();
        for _ in 0..passes {
            engine.out_of_place(black_box(&big_src), black_box(&mut big_dst));
        }
        let e = (passes * big) as f64 / t.elapsed_secs() / 1e9;
        let t = Stamp::now();
        for _ in 0..passes {
            black_box(&mut big_dst).copy_from_slice(black_box(&big_src));
        }
        let m = (passes * big) as f64 / t.elapsed_secs() / 1e9;
        let t = Stamp::now();
        for _ in 0..passes {
            engine.in_place(black_box(&mut big_dst));
        }
        let p = (passes * big) as f64 / t.elapsed_secs() / 1e9;
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

    // Each engine backend against the ceiling of its own instruction width.
    let ceilings = probes.report();
    for (i, row) in rows.iter().enumerate() {
        let Some(Some(backend)) = *row else { continue };
        let (stream16, stream1m) = (results[0][i], results[2][i]);
        let fresh16 = fresh[i].unwrap_or(0.0);
        let mut line = format!(
            "{}: 16KiB={stream16:.2} 1MiB={stream1m:.2} 16KiB_fresh={fresh16:.2} \
             fresh_ratio={:.2} (target 0.80)",
            names[i],
            fresh16 / stream16
        );
        if let Some(ceiling) = ceilings.of(backend) {
            let target = if backend == Backend::Vaes512 {
                0.95
            } else {
                0.90
            };
            line += &format!(
                " ceiling_gbps={ceiling:.2} fraction_16KiB={:.3} fraction_1MiB={:.3} \
                 (target {target:.2})",
                stream16 / ceiling,
                stream1m / ceiling
            );
        }
        println!("{line}");
    }

    // Summary at the size where the engine is slower, all figures from that same column.
    let col = if results[0][e] <= results[2][e] { 0 } else { 2 };
    let (engine_gbps, openssl_gbps, ctr_gbps) = (results[col][e], results[col][o], results[col][c]);
    let mut last = format!(
        "engine_gbps={engine_gbps:.1} openssl_gbps={openssl_gbps:.1} ctr_gbps={ctr_gbps:.1} \
         ratio_openssl={:.2} ratio_ctr={:.2}",
        engine_gbps / openssl_gbps,
        engine_gbps / ctr_gbps
    );
    if let Some(ceiling) = ceilings.of(Backend::detect()) {
        last += &format!(
            " ceiling_gbps={ceiling:.1} fraction={:.2}",
            engine_gbps / ceiling
        );
    }
    println!("{last}");
}

/// Ceiling probes taken between the repetitions (x86-64 only).
#[derive(Default)]
struct Probes {
    /// Core clock samples, Hz.
    #[cfg(target_arch = "x86_64")]
    clock: Vec<f64>,
    /// AES instruction rates per width (xmm, ymm, zmm), instructions per second.
    #[cfg(target_arch = "x86_64")]
    rates: [Vec<f64>; 3],
}

/// Median ceilings per instruction width, GB/s.
struct Ceilings([Option<f64>; 3]);

impl Ceilings {
    /// The ceiling of `backend`'s instruction width, if measured.
    fn of(&self, backend: Backend) -> Option<f64> {
        let index = match backend {
            Backend::AesNi => 0,
            Backend::Vaes256 => 1,
            Backend::Vaes512 => 2,
            _ => return None,
        };
        self.0[index]
    }
}

#[cfg(target_arch = "x86_64")]
const WIDTHS: [ceiling::Width; 3] = [
    ceiling::Width::Xmm,
    ceiling::Width::Ymm,
    ceiling::Width::Zmm,
];

impl Probes {
    /// Takes one sample of every probe (kept when `keep`; the first round is a warm-up).
    #[cfg(target_arch = "x86_64")]
    fn sample(&mut self, keep: bool) {
        let clock = ceiling::clock_hz();
        let rates = WIDTHS.map(ceiling::aes_rate);
        if keep {
            self.clock.push(clock);
            for (samples, rate) in self.rates.iter_mut().zip(rates) {
                samples.push(rate);
            }
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn sample(&mut self, _keep: bool) {}

    /// Prints the clock and per-width throughput, latency and ceiling; returns the ceilings.
    #[cfg(target_arch = "x86_64")]
    fn report(self) -> Ceilings {
        let clock = median(self.clock);
        println!(
            "ceiling: core clock {:.3} GHz (dependent add chain, median of {} samples; \
             AES-256 = 14 AES instructions per 16-byte lane)",
            clock / 1e9,
            self.rates[0].len()
        );
        let mut ceilings = [None; 3];
        for ((width, samples), out) in WIDTHS.into_iter().zip(self.rates).zip(&mut ceilings) {
            if !width.available() {
                println!("ceiling: {}: not on this CPU", width.label());
                continue;
            }
            let rate = median(samples);
            let gbps = ceiling::ceiling_gbps(width, rate);
            println!(
                "ceiling: {}: {:.2} instr/cycle, latency {:.2} cycles -> {gbps:.2} GB/s \
                 ({:.3} cycles/byte)",
                width.label(),
                rate / clock,
                ceiling::aes_latency(width, clock),
                clock / (gbps * 1e9)
            );
            *out = Some(gbps);
        }
        Ceilings(ceilings)
    }

    #[cfg(not(target_arch = "x86_64"))]
    fn report(self) -> Ceilings {
        println!("ceiling: not measured (the probes are x86-64 assembly)");
        Ceilings([None; 3])
    }
}

//! criterion benches of AES-256-CTR: the osscse engine (detected backend and every backend this
//! CPU has), `ctr`+`aes`, the `openssl` crate and `aws-lc-rs`, over 1 KiB, 16 KiB, 1 MiB and
//! 64 MiB buffers, in place and out of place.
//!
//! `cargo bench -p osscse-benches --bench engine` (filter with e.g. `-- 16KiB`).
#![allow(missing_docs)]

use core::hint::black_box;
use core::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use osscse_benches::everything;

const SIZES: [(usize, &str); 4] = [
    (1 << 10, "1KiB"),
    (16 << 10, "16KiB"),
    (1 << 20, "1MiB"),
    (64 << 20, "64MiB"),
];

fn ctr(c: &mut Criterion) {
    for (size, label) in SIZES {
        let src: Vec<u8> = (0..size).map(|i| i as u8).collect();
        let mut dst = vec![0u8; size];
        for out_of_place in [false, true] {
            let mode = if out_of_place {
                "out-of-place"
            } else {
                "in-place"
            };
            let mut group = c.benchmark_group(format!("aes256ctr/{label}/{mode}"));
            group.throughput(Throughput::Bytes(size as u64));
            if size >= 1 << 20 {
                group.sample_size(10);
            }
            for mut imp in everything() {
                group.bench_function(BenchmarkId::from_parameter(imp.name()), |b| {
                    if out_of_place {
                        b.iter(|| imp.out_of_place(black_box(&src), black_box(&mut dst)));
                    } else {
                        b.iter(|| imp.in_place(black_box(&mut dst)));
                    }
                });
            }
            group.finish();
        }
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = ctr
}
criterion_main!(benches);

//! Range and multipart planning: never panic, and every plan keeps its invariants.
#![no_main]
use libfuzzer_sys::fuzz_target;
use osscse_core::content::{ByteRange, MultipartPlan, RangePlan};

fuzz_target!(|data: &[u8]| {
    if data.len() < 24 {
        return;
    }
    let n = |i: usize| u64::from_le_bytes(data[i..i + 8].try_into().unwrap());
    let (size, part_size, min) = (n(0), n(8) % (1 << 30), n(16) % (1 << 20));
    let text = String::from_utf8_lossy(&data[24..]);
    if let Ok(range) = ByteRange::parse(&text) {
        if let Ok(plan) = RangePlan::resolve(range, size) {
            assert!(
                plan.aligned_first <= plan.first && plan.first <= plan.last && plan.last < size
            );
            assert!(plan.skip() < 16 && plan.aligned_first % 16 == 0);
            assert_eq!(plan.request_len(), plan.len() + plan.skip());
        }
    }
    if let Ok(plan) = MultipartPlan::with_min_part_size(size % (1 << 40), part_size, min) {
        assert!(plan.part_size() % 16 == 0 && plan.part_count() <= 10_000);
        let mut next = 0;
        for part in plan.parts() {
            assert_eq!(part.offset, next);
            assert!(part.len <= plan.part_size());
            next += part.len;
        }
        assert_eq!(next, plan.data_size());
    }
});

use super::*;

/// xorshift64: deterministic, not cryptographic; only for tests.
struct Fixed(u64);
impl rand_core::TryRng for Fixed {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}
impl TryCryptoRng for Fixed {}

#[test]
fn nist_sp800_38a_f55_f56() {
    let key =
        hex::decode("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4").unwrap();
    let ctr = hex::decode("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff").unwrap();
    let pt = hex::decode(concat!(
        "6bc1bee22e409f96e93d7e117393172a",
        "ae2d8a571e03ac9c9eb76fac45af8e51",
        "30c81c46a35ce411e5fbc1191a0a52ef",
        "f69f2445df4f9b17ad2b417be66c3710"
    ))
    .unwrap();
    let ct = hex::decode(concat!(
        "601ec313775789a5b7a7f504bbf3d228",
        "f443e3ca4d62b59aca84e990cacaf5c5",
        "2b0930daa23de94ce87017ba2d84988d",
        "dfc9c58db67aada613c2dd08457941a6"
    ))
    .unwrap();
    let m = ContentMaterial::from_parts(key.try_into().unwrap(), ctr.try_into().unwrap());
    let mut buf = pt.clone();
    m.apply_at(0, &mut buf);
    assert_eq!(buf, ct, "F.5.5 encrypt");
    m.apply_at(0, &mut buf);
    assert_eq!(buf, pt, "F.5.6 decrypt");
    // Every block on its own, from its own counter.
    for block in 0..4 {
        let mut b = ct[block * 16..][..16].to_vec();
        m.apply_at(block as u64 * 16, &mut b);
        assert_eq!(b, pt[block * 16..][..16]);
    }
}

#[test]
fn generated_iv_has_zero_bytes_8_to_11() {
    let mut rng = Fixed(0x9E37_79B9_7F4A_7C15);
    for _ in 0..10_000 {
        let m = ContentMaterial::generate(&mut rng).unwrap();
        assert_eq!(&m.iv()[8..12], &[0, 0, 0, 0]);
    }
}

#[test]
fn stuck_rng_is_refused() {
    struct Stuck;
    impl rand_core::TryRng for Stuck {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(0)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            Ok(0)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            dst.fill(0);
            Ok(())
        }
    }
    impl TryCryptoRng for Stuck {}
    assert_eq!(
        ContentMaterial::generate(&mut Stuck).unwrap_err(),
        Error::Rng
    );
}

#[test]
fn counter_carries_across_64_bits_and_wraps_at_2_128() {
    let iv = hex::decode("000000000000000000000000ffffffff")
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(
        hex::encode(counter_add(&iv, 1)),
        "00000000000000000000000100000000"
    );
    let iv = hex::decode("0000000000000000ffffffffffffffff")
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(
        hex::encode(counter_add(&iv, 2)),
        "00000000000000010000000000000001"
    );
    assert_eq!(counter_add(&[0xff; 16], 1), [0; 16]);
    let m = ContentMaterial::from_parts([7; 32], [0xff; 16]);
    assert_eq!(m.counter_at(16 * 3 + 5), counter_add(&[0xff; 16], 3));
}

#[test]
fn fixture_counters_from_format_md() {
    let iv: [u8; 16] = hex::decode("8c3207b09a9bfa6600000000ac1992b4")
        .unwrap()
        .try_into()
        .unwrap();
    let m = ContentMaterial::from_parts([0; 32], iv);
    let plan = RangePlan::resolve(ByteRange::parse("bytes=100-199").unwrap(), 21839).unwrap();
    #[cfg(feature = "alloc")]
    assert_eq!(plan.request_header(), "bytes=96-199");
    assert_eq!(plan.skip(), 4);
    assert_eq!(
        hex::encode(m.counter_at(plan.aligned_first)),
        "8c3207b09a9bfa6600000000ac1992ba"
    );
    assert_eq!(
        hex::encode(m.counter_at(2048)),
        "8c3207b09a9bfa6600000000ac199334"
    );
}

#[test]
fn range_parsing_and_resolution() {
    use ByteRange::*;
    assert_eq!(
        ByteRange::parse("bytes=0-0"),
        Ok(Bounded { first: 0, last: 0 })
    );
    assert_eq!(ByteRange::parse("5-"), Ok(From { first: 5 }));
    assert_eq!(ByteRange::parse("bytes=-20"), Ok(Suffix { len: 20 }));
    for bad in [
        "",
        "bytes=",
        "bytes=-",
        "bytes=-0",
        "bytes=5-4",
        "bytes=a-b",
        "bytes=1-2,4-5",
        "bytes=+1-2",
        "bytes= 1-2",
        "bytes=99999999999999999999-",
    ] {
        assert_eq!(
            ByteRange::parse(bad),
            Err(PlanError::InvalidRange),
            "{bad:?}"
        );
    }
    assert_eq!(Suffix { len: 20 }.resolve(100), Ok((80, 99)));
    assert_eq!(Suffix { len: 200 }.resolve(100), Ok((0, 99)));
    assert_eq!(
        Bounded {
            first: 90,
            last: 1000
        }
        .resolve(100),
        Ok((90, 99))
    );
    assert_eq!(
        From { first: 100 }.resolve(100),
        Err(PlanError::RangeNotSatisfiable {
            start: 100,
            size: 100
        })
    );
    assert_eq!(
        Suffix { len: 1 }.resolve(0),
        Err(PlanError::RangeNotSatisfiable { start: 0, size: 0 })
    );
    let p = RangePlan::resolve(Suffix { len: 20 }, 100).unwrap();
    assert_eq!(
        (p.aligned_first, p.skip(), p.len(), p.request_len()),
        (80, 0, 20, 20)
    );
    let p = RangePlan::new(17, 17).unwrap();
    assert_eq!(
        (p.aligned_first, p.skip(), p.len(), p.request_len()),
        (16, 1, 1, 2)
    );
}

#[test]
fn multipart_rules() {
    assert_eq!(
        MultipartPlan::new(1 << 20, 100 * 1024 + 8),
        Err(PlanError::PartSizeNotMultipleOf16)
    );
    assert_eq!(
        MultipartPlan::new(1 << 20, 0),
        Err(PlanError::PartSizeNotMultipleOf16)
    );
    assert_eq!(
        MultipartPlan::new(1 << 20, 4096),
        Err(PlanError::PartSizeTooSmall {
            minimum: MIN_PART_SIZE
        })
    );
    assert_eq!(
        MultipartPlan::new(10_001 * MIN_PART_SIZE, MIN_PART_SIZE),
        Err(PlanError::TooManyParts)
    );
    let p = MultipartPlan::with_min_part_size(5000, 2048, 16).unwrap();
    assert_eq!(p.part_count(), 3);
    assert_eq!(
        p.part(2),
        Ok(PartPlan {
            number: 2,
            offset: 2048,
            len: 2048
        })
    );
    assert_eq!(
        p.part(3),
        Ok(PartPlan {
            number: 3,
            offset: 4096,
            len: 904
        })
    );
    assert_eq!(p.part(4), Err(PlanError::PartNumberOutOfRange));
    assert_eq!(p.part(0), Err(PlanError::PartNumberOutOfRange));
    assert_eq!(p.parts().map(|x| x.len).sum::<u64>(), 5000);
    let empty = MultipartPlan::new(0, MIN_PART_SIZE).unwrap();
    assert_eq!(
        empty.part(1),
        Ok(PartPlan {
            number: 1,
            offset: 0,
            len: 0
        })
    );
    let big = MultipartPlan::choose(1 << 40, 8 << 20);
    assert!(big.part_count() <= MAX_PARTS && big.part_size().is_multiple_of(16));
    assert_eq!(MultipartPlan::choose(1000, 1).part_size(), MIN_PART_SIZE);
    // Part n starts at IV + (n-1)*part_size/16, for the sizes SECURITY.md §4.5 names.
    let m = ContentMaterial::from_parts([1; 32], [0x11; 16]);
    for part_size in [16u64, 100 * 1024, 5 << 20] {
        let p = MultipartPlan::with_min_part_size(3 * part_size, part_size, 16).unwrap();
        for part in p.parts() {
            assert_eq!(
                m.counter_at(part.offset),
                counter_add(m.iv(), (u64::from(part.number) - 1) * part_size / 16)
            );
        }
    }
}

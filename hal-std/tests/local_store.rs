//! The local directory store: round trips, ranges, plain objects, keys and tampering.
#![allow(
    clippy::unwrap_used,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc
)]

use std::path::Path;

use osscse_core::content::ByteRange;
use osscse_core::envelope::Matdesc;
use osscse_core::wrap::RsaMasterKey;
use osscse_std::Error;
use osscse_std::keys::{Keyring, load_rsa_key};
use osscse_std::local::{LocalStore, PutOptions, Sidecar, read_all};

fn key(name: &str) -> RsaMasterKey {
    load_rsa_key(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .unwrap()
}

fn data(n: usize) -> Vec<u8> {
    let mut x = 0x1234_5678_9abc_def0u64 ^ n as u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn round_trips_across_sizes_and_the_stored_bytes_are_ciphertext() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path());
    let writer = Keyring::new(key("test-a-public.pem"));
    let reader = Keyring::new(key("test-a-private.pem"));
    for n in [0usize, 1, 15, 16, 17, 100, 4096, 100_001] {
        let plain = data(n);
        let k = format!("dir/obj-{n}");
        let info = store
            .put(&k, &plain[..], n as u64, &writer, &PutOptions::default())
            .unwrap();
        assert_eq!(info.size, n as u64);
        let stored = std::fs::read(dir.path().join(&k)).unwrap();
        assert_eq!(stored.len(), n);
        if n >= 16 {
            assert_ne!(stored, plain, "stored bytes must be ciphertext");
        }
        assert_eq!(info.crc64, osscse_std::fuzzing::crc64::checksum(&stored));
        assert_eq!(
            read_all(&store, &k, None, &reader).unwrap(),
            plain,
            "size {n}"
        );
        // Writing needs only the public key; reading needs the private key.
        assert!(
            read_all(&store, &k, None, &writer).is_err(),
            "a public key cannot decrypt"
        );
    }
    let listed = store.list("dir/").unwrap();
    assert_eq!(listed.len(), 8);
    assert!(listed.contains(&("dir/obj-4096".to_owned(), 4096)));
}

#[test]
fn every_range_start_and_suffix_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path());
    let keys = Keyring::new(key("test-a-private.pem"));
    let plain = data(1000);
    store
        .put("r", &plain[..], 1000, &keys, &PutOptions::default())
        .unwrap();
    for start in 0..48u64 {
        for end in [
            start,
            start + 1,
            start + 15,
            start + 16,
            start + 100,
            999,
            5000,
        ] {
            if end < start {
                continue;
            }
            let r = ByteRange::parse(&format!("bytes={start}-{end}")).unwrap();
            let got = read_all(&store, "r", Some(r), &keys).unwrap();
            let last = end.min(999) as usize;
            assert_eq!(got, &plain[start as usize..=last], "{start}-{end}");
        }
        let got = read_all(
            &store,
            "r",
            Some(ByteRange::parse(&format!("bytes={start}-")).unwrap()),
            &keys,
        )
        .unwrap();
        assert_eq!(got, &plain[start as usize..]);
    }
    for n in [1u64, 15, 16, 17, 999, 1000, 5000] {
        let got = read_all(
            &store,
            "r",
            Some(ByteRange::parse(&format!("bytes=-{n}")).unwrap()),
            &keys,
        )
        .unwrap();
        let from = 1000usize.saturating_sub(n as usize);
        assert_eq!(got, &plain[from..], "suffix {n}");
    }
    assert!(matches!(
        read_all(
            &store,
            "r",
            Some(ByteRange::parse("bytes=1000-").unwrap()),
            &keys
        ),
        Err(Error::Core(_))
    ));
}

#[test]
fn matdesc_selects_the_key_semantically_and_misses_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path());
    let b_pub = key("test-b-public.pem").with_matdesc(Matdesc::parse(r#"{"k": "v"}"#).unwrap());
    let plain = data(300);
    store
        .put(
            "m",
            &plain[..],
            300,
            &Keyring::new(b_pub),
            &PutOptions::default(),
        )
        .unwrap();
    // Reader: default key A, plus B registered under the compact form of the same matdesc.
    let reader = Keyring::new(key("test-a-private.pem"))
        .with_key(key("test-b-private.pem").with_matdesc(Matdesc::parse(r#"{"k":"v"}"#).unwrap()));
    assert_eq!(read_all(&store, "m", None, &reader).unwrap(), plain);
    // Only key A: the error names the matdesc that found no key.
    let only_a = Keyring::new(key("test-a-private.pem"));
    match read_all(&store, "m", None, &only_a) {
        Err(Error::NoKeyForMatdesc { matdesc }) => assert!(matdesc.contains("\"k\"")),
        other => panic!("expected NoKeyForMatdesc, got {other:?}"),
    }
}

#[test]
fn plain_objects_pass_through_and_tampering_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path());
    let keys = Keyring::new(key("test-a-private.pem"));
    // A plain object: data plus a sidecar without an envelope.
    std::fs::write(dir.path().join("plain"), b"hello plain world").unwrap();
    let sidecar = Sidecar {
        version: 1,
        size: 17,
        crc64ecma: osscse_std::fuzzing::crc64::checksum(b"hello plain world").to_string(),
        headers: Default::default(),
    };
    std::fs::write(
        dir.path().join("plain.osscse-meta.json"),
        serde_json::to_vec(&sidecar).unwrap(),
    )
    .unwrap();
    assert_eq!(
        read_all(&store, "plain", None, &keys).unwrap(),
        b"hello plain world"
    );
    assert_eq!(
        read_all(
            &store,
            "plain",
            Some(ByteRange::parse("bytes=-5").unwrap()),
            &keys
        )
        .unwrap(),
        b"world"
    );
    assert!(!store.head("plain").unwrap().is_encrypted());

    let plain = data(5000);
    store
        .put("t", &plain[..], 5000, &keys, &PutOptions::default())
        .unwrap();
    let path = dir.path().join("t");
    let mut stored = std::fs::read(&path).unwrap();
    stored[1234] ^= 1;
    std::fs::write(&path, &stored).unwrap();
    assert!(matches!(
        read_all(&store, "t", None, &keys),
        Err(Error::CrcMismatch { .. })
    ));
    stored.truncate(4000);
    std::fs::write(&path, &stored).unwrap();
    assert!(matches!(
        read_all(&store, "t", None, &keys),
        Err(Error::Truncated {
            expected: 5000,
            actual: 4000
        })
    ));

    // A failed download leaves no destination file behind.
    let dest = dir.path().join("out.bin");
    assert!(store.get_to_file("t", None, &keys, &dest).is_err());
    assert!(!dest.exists());
}

#[test]
fn wrong_key_fails_and_md5_is_written_only_on_request() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path());
    let a = Keyring::new(key("test-a-private.pem"));
    let b = Keyring::new(key("test-b-private.pem"));
    store
        .put("w", &b"secret"[..], 6, &a, &PutOptions::default())
        .unwrap();
    let err = read_all(&store, "w", None, &b).unwrap_err();
    assert!(
        matches!(err, Error::Core(osscse_core::Error::Wrap(_))),
        "{err:?}"
    );
    let info = store.head("w").unwrap();
    assert!(
        info.meta
            .iter()
            .all(|(n, _)| !n.contains("unencrypted-content-md5"))
    );
    let opts = PutOptions {
        unencrypted_md5: Some("XUFAKrxLKna5cZ2REBfFkg==".into()),
        record_length: true,
    };
    store.put("w2", &b"hello"[..], 5, &a, &opts).unwrap();
    let info = store.head("w2").unwrap();
    assert!(info.meta.iter().any(|(n, v)| n.ends_with("unencrypted-content-md5") && v == "XUFAKrxLKna5cZ2REBfFkg=="));
    assert!(
        info.meta
            .iter()
            .any(|(n, v)| n.ends_with("unencrypted-content-length") && v == "5")
    );
}

#[test]
fn keys_cannot_escape_the_store_and_short_sources_fail() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::new(dir.path().join("s"));
    let a = Keyring::new(key("test-a-public.pem"));
    for bad in [
        "../x",
        "/etc/passwd",
        "a//b",
        "a/./b",
        "",
        "dir/",
        "x.osscse-meta.json",
    ] {
        assert!(
            matches!(
                store.put(bad, &b"x"[..], 1, &a, &PutOptions::default()),
                Err(Error::Config(_))
            ),
            "{bad}"
        );
    }
    assert!(matches!(
        store.put("short", &b"abc"[..], 10, &a, &PutOptions::default()),
        Err(Error::ShortSource {
            expected: 10,
            actual: 3
        })
    ));
    assert!(matches!(
        store.put("long", &b"abcdef"[..], 3, &a, &PutOptions::default()),
        Err(Error::ShortSource { .. })
    ));
    assert!(
        store.list("").unwrap().is_empty(),
        "failed writes leave no object"
    );
    assert!(matches!(store.head("missing"), Err(Error::Io { .. })));
}

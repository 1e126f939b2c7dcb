//! Encrypts a file exactly as the official OSS SDKs' encryption clients would before upload,
//! stores the ciphertext and its envelope headers locally, then decrypts and verifies it.
//!
//! ```text
//! cargo run --release -p osscse-core --features rsa,std --example local_roundtrip -- [FILE] [OUT_DIR]
//! ```
//! Without FILE it encrypts 8 MiB of generated data. OUT_DIR defaults to `target/osscse-demo`.
#![allow(clippy::std_instead_of_alloc, clippy::std_instead_of_core)]

use std::error::Error;
use std::fs;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Instant;

use osscse_core::content::{ByteRange, ContentMaterial, RangePlan};
use osscse_core::envelope::{self, Matdesc, ObjectEncryption};
use osscse_core::stream::{DecryptingReader, EncryptingWriter};
use osscse_core::wrap::{self, RsaMasterKey};

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let input = args.next().map(PathBuf::from);
    let out_dir = args
        .next()
        .map_or_else(|| PathBuf::from("target/osscse-demo"), PathBuf::from);
    fs::create_dir_all(&out_dir)?;
    let mut rng = getrandom::SysRng;

    let plain = match &input {
        Some(p) => fs::read(p)?,
        None => {
            let mut d = vec![0u8; 8 << 20];
            for (i, b) in d.iter_mut().enumerate() {
                *b = (i % 251) as u8;
            }
            d
        }
    };

    let t = Instant::now();
    let rsa = rsa::PrivateKey::new(&mut rng, 3072)?;
    let matdesc = Matdesc::from_pairs([("purpose", "osscse-demo")])?;
    let reader_key = RsaMasterKey::from_private_key(rsa)?.with_matdesc(matdesc.clone());
    let public_der = rsa::pkcs8::EncodePublicKey::to_public_key_der(reader_key.public_key())?;
    // The writer (a device, say) holds only the public key.
    let writer_key = RsaMasterKey::from_public_der(public_der.as_bytes())?.with_matdesc(matdesc);
    println!("generated an RSA-3072 master key in {:.2?}", t.elapsed());

    // Encrypt: new data key + IV, wrap both, stream the body through the cipher.
    let t = Instant::now();
    let material = ContentMaterial::generate(&mut rng)?;
    let mut env = wrap::seal(&writer_key, &material, &mut rng)?;
    env.unencrypted_content_length = Some(plain.len() as u64);
    let body_path = out_dir.join("object.bin");
    let mut w = EncryptingWriter::new(fs::File::create(&body_path)?, material.keystream_at(0));
    w.write_all(&plain)?;
    w.flush()?;
    drop(material);
    let headers: serde_json::Map<String, serde_json::Value> = env
        .headers()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into()))
        .collect();
    let meta_path = out_dir.join("object.meta.json");
    fs::write(&meta_path, serde_json::to_vec_pretty(&headers)?)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "encrypted {} bytes in {:.3}s ({:.0} MiB/s) -> {} + {}",
        plain.len(),
        secs,
        plain.len() as f64 / secs / (1 << 20) as f64,
        body_path.display(),
        meta_path.display()
    );
    for (k, v) in &headers {
        let v = v.as_str().unwrap_or_default();
        let shown = if v.len() > 48 {
            format!("{}…", &v[..48])
        } else {
            v.to_owned()
        };
        println!("  {k}: {shown}");
    }

    // Decrypt: parse the stored headers, pick the key by matdesc, unwrap, stream-decrypt.
    let stored: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&fs::read(&meta_path)?)?;
    let pairs = stored
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or_default()));
    let ObjectEncryption::Envelope(env) = envelope::parse(pairs)? else {
        return Err("stored object is not encrypted".into());
    };
    let keys = [&reader_key];
    let key = wrap::select(&keys, None, env.matdesc.as_ref())?;
    let material = wrap::open(key, &env, &mut rng)?;
    let mut out = Vec::with_capacity(plain.len());
    DecryptingReader::new(fs::File::open(&body_path)?, material.keystream_at(0))
        .read_to_end(&mut out)?;
    if out != plain {
        return Err("decrypted bytes differ from the original".into());
    }
    println!("decrypted and verified {} bytes", out.len());

    // A ranged read that starts inside a block, as a ranged GET would.
    if plain.len() > 200 {
        let plan = RangePlan::resolve(ByteRange::parse("bytes=100-199")?, plain.len() as u64)?;
        let cipher = fs::read(&body_path)?;
        let mut part = Vec::new();
        DecryptingReader::with_skip(
            &cipher[plan.aligned_first as usize..=plan.last as usize],
            material.keystream_at(plan.aligned_first),
            plan.skip(),
        )
        .read_to_end(&mut part)?;
        if part != plain[100..200] {
            return Err("ranged decryption differs".into());
        }
        println!(
            "ranged read bytes=100-199 (requested {}) verified",
            plan.request_header()
        );
    }
    println!("ok");
    Ok(())
}

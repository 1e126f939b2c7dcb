//! NIST CAVP CTR_DRBG known-answer tests, section `[AES-256 no df]`.
//!
//! Records from the CAVS 14.3 response file `drbgvectors_no_reseed/CTR_DRBG.rsp`,
//! `[PredictionResistance = False]`, `[EntropyInputLen = 384]`, `[NonceLen = 0]`,
//! `[AdditionalInputLen = 0]`, `[ReturnedBitsLen = 512]`: COUNT 0..14 with
//! `[PersonalizationStringLen = 0]` and COUNT 0 with `[PersonalizationStringLen = 384]`.
//! CAVP procedure: Instantiate, Generate (discarded), Generate (compared).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use osscse_embedded::CtrDrbg;

/// (EntropyInput, PersonalizationString, ReturnedBits)
const RECORDS: &[(&str, &str, &str)] = &[
    (
        "df5d73faa468649edda33b5cca79b0b05600419ccb7a879ddfec9db32ee494e5531b51de16a30f769262474c73bec010",
        "",
        "d1c07cd95af8a7f11012c84ce48bb8cb87189e99d40fccb1771c619bdf82ab2280b1dc2f2581f39164f7ac0c510494b3a43c41b7db17514c87b107ae793e01c5",
    ),
    (
        "3b6fb634d35bb386927374f991c1cbc9fafba3a43c432dc411b7b2fa96cfcce8d305e135ff9bc460dbc7ba3990bf8060",
        "",
        "083a836fe1cde053164555529409337dc4fec6844594fdf15083ba9d1001eb945c3b96a1bcee3990e1e51f85c80e9f4e04de34e57b640f6cae8ed68e99624712",
    ),
    (
        "0217a8acf2f8e2c4ab7bdcd5a694bca28d038018869dcbe2160d1ce0b4c78ead5592efed98662f2dff87f32f4835c677",
        "",
        "aa36779726f52875312507fb084744d4d7f3f9468a5b246ccde316d2ab91879c2e29f5a0938a3bcd722bb718d01bbfc35831c9e64f5b6410ae908d3061f76c84",
    ),
    (
        "37d851fb20ab3ba73b1d8d81f323901a55529c26a8f753d32980d6d2aba3da278b907400a19406e255206e1d0858f384",
        "",
        "96eabafb45c77967b14a6663a39238306ce58038a3dc0b8aecaf0231c404ecba50f1ab0a17b1894cf6acb630fe165f8a9d7c5412e1bab4eb4efe9ae84f5b4a03",
    ),
    (
        "e62eab30b9338593076104ee9c148a6c22f796daedb71bacdda207b19768b5fed5d20c9eea12ed5ab959c143f773cda6",
        "",
        "f5ea040c670f83c26ff2c38f66169b572fecc7283e902f0f4b2f6a4440f5b8970807d58ca01466cec7fb68b4cf952355e780050bf48ad5b20c17c78aa0fc0352",
    ),
    (
        "6245755cb02ae883911c0d82009035715b2304f78ce2a0d8fa22d47e7e1e394fd9a7a13862ef2393bb3818ec49cb70f2",
        "",
        "3cd590a0dfece30940c11ff243d99e552b531ae11b31a454b42ed04f2c77f2e2f58f9bd1cd0a36480f845256bc82723c2de5c6d15bc8be2040e5ae8b5331516e",
    ),
    (
        "bc10b0985a1da8d0bcbced029cf52f0fe12b6d6bc500ddffbaf37a2090356cf1aacb1bf30ad948f87f899c544d115716",
        "",
        "8575f0f1f959589e2695891dfac56db72b79981c6077de92154c5557c3e89ab7737827069ecc700de18317b5a1fa38c11d675bbb9ba235f153c4f9899bc4bb8f",
    ),
    (
        "0398b1bb37f9673a2d88ef418b4cca3d6009950fae93f08095a4960283329ce75312bb21c30d26b0ddfabf296006065c",
        "",
        "22816b8c4bcf34f8d54257c217b529cf038b6f6fb1863017a343d50c883696d443fa76c259daae46a763382bcc289de55b224f8db99d46838c951b3e18a9fc26",
    ),
    (
        "4bfa09839da460e5b088411eb312a3c89a858ee88cf3cb2ad4f8f9896bcfcae72fbd28f6bb428811ba34fbe4f8c8f518",
        "",
        "46a574ebbd566861757680a5a3a050beca92fa6993ba72bced22bc0a46ed00584e61db698e352e31c74af4f5711b0aa1d9d41894ffdb9c8837c38b1b3782e381",
    ),
    (
        "86d115f1d3a154c50b45562a02c955e307c17febecab4d13e0d5b6c7258b4bfeb91e316ad0f87bbc0ae1d09d4d60d31a",
        "",
        "ff0250e026ef966434062c875545bc436605bb5d02877a1bd3fd03ab8752b1963749ea208df53f6c51826434f5c6e6d991845c6154f6b2000de640d030288965",
    ),
    (
        "ce4c6c498e5df8b61debfaf1c24c479109c87c7d38782f50bb60877127a5480594428bd7a9fd71fff2fe0d1db3ce6e2f",
        "",
        "1389f2a6134235e08e7a0b41c4a1b5fd77bce469fb6845e519ccad385d74649f2207c84488556741d27d6435437ad088d11f52265b882e47642402d1c0882562",
    ),
    (
        "c1dad0e376aa2c350e0d89fcd24040992c08c141adc373d4360786a08812d2919329b4f5a5fae4016cb7699b0647edfa",
        "",
        "d38991536fb03509531ffae44c7494f05a73030920c2bafd833be1a8c7f6d7416077d0089bb651b96ad964c26f11b31bb0364b4f5e0dc7e11504054b5110211a",
    ),
    (
        "75173e81ce87e7c8d0345761ee59a3fd1c555f37f7c236f7e3aaa5f5ddcb8089462e8edbe4e19aec2467684a57716788",
        "",
        "58bbc5ce5c2d8b6330c5857a888ee6b3d74b2ba009c8553cc7b8adb51793862e9c9c933959ea73d720786e471dfdd2bed572e25f683dcd6f7e729db0254f74ad",
    ),
    (
        "a7c57c5af28a258926838c39ae62194005c93afffe5592a685b150c9de3ccf79c223616674d676517f4bd1a2fc3bd6ec",
        "",
        "a0ea3af0cc95103ba3e89e5e4a6b792bfb19eef9580255ed76e71ed0e5325848497d7757eb5cb319475b77926abb6a2bfb4437ccff0c8356c1b5705d85842d93",
    ),
    (
        "b7f7e4e68356b2ac2c2c0075c0ef5ec6f5a6f225a18db00830261a95765771eba739a7cf8a1126c58994c43b2d28024a",
        "",
        "a15e8cc437a600a51dcfb778afa23d577d0e56b004f56eeb286e6c949d982bdb9353cbc63d33d7d397ceb4fea51a6df0b4d6d4cd32b9065bc4110d790c610e44",
    ),
    (
        "22a89ee0e37b54ea636863d9fed10821f1952a428488d528eceb9d2ec69d573ec6216216fb3e8f72a148a5ada9d620b1",
        "953c10badcbcd45fb4e5475826477fc137ac96a49ad5005fb14bdaf6468ae7f46c5d0de22d304afc67989615adc2e983",
        "f7fab6a6fcf445f0a0434b2aa0c610bdef5489ecd95414634623add18a9f888bca6be151312d1b9e8f83bd0acad6234d3bccc11b63a40d6fbff448f67db0b91f",
    ),
];

fn seed(hex_str: &str) -> [u8; 48] {
    hex::decode(hex_str)
        .expect("hex")
        .try_into()
        .expect("48 bytes")
}

#[test]
fn cavp_aes256_no_df_no_reseed() {
    for (i, (entropy, pers, expected)) in RECORDS.iter().enumerate() {
        let pers = hex::decode(pers).expect("hex");
        let mut drbg = CtrDrbg::instantiate(&seed(entropy), &pers).expect("instantiate");
        let mut out = [0u8; 64];
        drbg.generate(&mut out, &[]).expect("first generate");
        drbg.generate(&mut out, &[]).expect("second generate");
        assert_eq!(hex::encode(out), *expected, "record {i}");
    }
}

#[test]
fn shorter_requests_are_prefixes_and_state_advances_per_call() {
    let (entropy, _, expected) = RECORDS[0];
    let expected = hex::decode(expected).expect("hex");
    for len in [0usize, 1, 15, 16, 17, 31, 63, 64] {
        let mut drbg = CtrDrbg::instantiate(&seed(entropy), &[]).expect("instantiate");
        let mut out = [0u8; 64];
        drbg.generate(&mut out, &[]).expect("generate");
        let mut part = vec![0u8; len];
        drbg.generate(&mut part, &[]).expect("generate");
        assert_eq!(part[..], expected[..len], "len {len}");
    }
    // Two half requests are not one whole request (Update runs once per call).
    let mut drbg = CtrDrbg::instantiate(&seed(entropy), &[]).expect("instantiate");
    let mut out = [0u8; 64];
    drbg.generate(&mut out, &[]).expect("generate");
    let (a, b) = out.split_at_mut(32);
    drbg.generate(a, &[]).expect("generate");
    drbg.generate(b, &[]).expect("generate");
    assert_eq!(out[..32], expected[..32]);
    assert_ne!(out[32..], expected[32..]);
}

#[test]
fn reseed_interval_is_enforced() {
    let (entropy, _, _) = RECORDS[1];
    let mut drbg = CtrDrbg::instantiate(&seed(entropy), &[])
        .expect("instantiate")
        .with_reseed_interval(2);
    let mut out = [0u8; 16];
    drbg.generate(&mut out, &[]).expect("1");
    drbg.generate(&mut out, &[]).expect("2");
    assert_eq!(
        drbg.generate(&mut out, &[]),
        Err(osscse_embedded::DrbgError::ReseedRequired)
    );
    drbg.reseed(&seed(RECORDS[2].0), &[]).expect("reseed");
    drbg.generate(&mut out, &[]).expect("after reseed");
}

#[test]
fn oversized_inputs_are_rejected() {
    let (entropy, _, _) = RECORDS[0];
    assert_eq!(
        CtrDrbg::instantiate(&seed(entropy), &[0u8; 49]).map(|_| ()),
        Err(osscse_embedded::DrbgError::InputTooLong)
    );
    let mut drbg = CtrDrbg::instantiate(&seed(entropy), &[]).expect("instantiate");
    let mut big = vec![0u8; osscse_embedded::drbg::MAX_REQUEST_BYTES + 1];
    assert_eq!(
        drbg.generate(&mut big, &[]),
        Err(osscse_embedded::DrbgError::RequestTooLarge)
    );
    // Through rand_core, large fills are split into legal requests.
    rand_core::TryRng::try_fill_bytes(&mut drbg, &mut big).expect("split fill");
    assert!(big.iter().any(|&b| b != 0));
}

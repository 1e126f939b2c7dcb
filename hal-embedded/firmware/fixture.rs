// Fixed test inputs of the firmware example, shared (via `include!`) with the host test that
// recomputes its output with osscse-core (`hal-embedded/tests/firmware.rs`). Test values only.

/// 384-bit entropy input of the CTR_DRBG (fixed so the host can recompute; never do this on a device).
pub(crate) const DRBG_SEED: [u8; 48] = [
    0x6f, 0x73, 0x73, 0x63, 0x73, 0x65, 0x2d, 0x66, 0x69, 0x72, 0x6d, 0x77, 0x61, 0x72, 0x65, 0x2d,
    0x74, 0x65, 0x73, 0x74, 0x2d, 0x73, 0x65, 0x65, 0x64, 0x8b, 0x1f, 0x03, 0xc4, 0x5e, 0x77, 0x90,
    0x21, 0xd6, 0x4a, 0xb3, 0x9c, 0x02, 0xee, 0x51, 0x7a, 0x36, 0x0f, 0xc8, 0x94, 0x2d, 0x6b, 0x13,
];
/// Personalization string (a device id).
pub(crate) const PERSONALIZATION: &[u8] = b"osscse-fw-device-0001";
/// IV prefix: device tag and persisted object counter.
pub(crate) const IV_DEVICE_TAG: u32 = 0x05c5_ca7e;
/// IV prefix: persisted object counter.
pub(crate) const IV_OBJECT_COUNTER: u32 = 42;
/// The telemetry payload.
pub(crate) const PAYLOAD: &[u8] = b"{\"device\":\"osscse-fw-device-0001\",\"t\":1763900000,\"temp_c\":21.5,\"rh\":40.25,\"seq\":42} telemetry over AES-256-CTR";
/// The RSA-2048 master public key (SubjectPublicKeyInfo DER).
pub(crate) const RSA_PUBLIC_KEY_DER: &[u8] = include_bytes!("../tests/data/test_rsa_2048_pub.der");
/// The symmetric CMK of the `symmetric` build (AES-256-GCM wrap). Test value only: a real
/// device keeps its own CMK in protected storage, never in the image.
pub(crate) const SYMMETRIC_CMK: [u8; 32] = *b"osscse-fw-device-0001-test-cmk!!";
/// Bucket, object key and region of the signed PUT.
pub(crate) const BUCKET: &str = "telemetry-bucket";
/// Object key of the signed PUT.
pub(crate) const OBJECT_KEY: &str = "devices/0001/2025-11-23T12:00:00Z.json";
/// Region of the V4 signature.
pub(crate) const REGION: &str = "cn-hangzhou";
/// Test access key id.
pub(crate) const ACCESS_KEY_ID: &str = "LTAI5tFirmwareTestKey";
/// Test access key secret.
pub(crate) const ACCESS_KEY_SECRET: &str = "firmware-test-secret-not-a-real-one";
/// Signing time (Unix seconds): 2025-11-23T12:00:00Z.
pub(crate) const SIGNING_TIME: u64 = 1_763_899_200;
/// Content type of the object.
pub(crate) const CONTENT_TYPE: &str = "application/json";

"""Drives the official OSS SDKs' own crypto classes offline (no network) for osscse's interop test.

Commands (all paths are files; headers are JSON objects of header name -> value):
  keygen PRIV_PEM PUB_PEM                      fresh RSA-2048: PKCS#1 private, SPKI public
  encrypt SDK PUB PRIV MATDESC_JSON IN OUT_BODY OUT_HEADERS [PART_SIZE]
  decrypt SDK PRIV HEADERS IN_BODY OUT [PART_SIZE]
SDK is "v2" (alibabacloud-oss-v2: MasterRsaCipher + AESCtrCipherBuilder) or "oss2" (RsaProvider).
With PART_SIZE the data is processed part by part, each part with the SDK's own per-part counter
(offset = (n-1) * part_size), and the multipart headers are written/read.
"""
import base64
import json
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def keygen(priv_path, pub_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with open(priv_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                  serialization.NoEncryption()))
    with open(pub_path, "wb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))


def parts(data, part_size):
    if part_size is None:
        return [(0, data)]
    return [(off, data[off:off + part_size]) for off in range(0, max(len(data), 1), part_size)]


def encrypt_v2(pub, priv, matdesc, data, part_size):
    from alibabacloud_oss_v2.crypto import MasterRsaCipher
    from alibabacloud_oss_v2.crypto.aes_ctr_cipher import AESCtrCipherBuilder
    from alibabacloud_oss_v2 import encryption_client as ec
    builder = AESCtrCipherBuilder(MasterRsaCipher(mat_desc=matdesc, public_key=pub, private_key=priv))
    cc = builder.content_cipher()
    body = b"".join(cc.clone(offset=off).encrypt_content(chunk) for off, chunk in parts(data, part_size))
    headers = {}
    ec._add_crypto_common_header(headers, cc.get_cipher_data())
    if part_size is not None:
        headers["x-oss-meta-client-side-encryption-data-size"] = str(len(data))
        headers["x-oss-meta-client-side-encryption-part-size"] = str(part_size)
    return body, headers


def encrypt_oss2(pub, priv, matdesc, data, part_size):
    import oss2
    provider = oss2.crypto.RsaProvider(key_pair={"public_key": pub, "private_key": priv}, mat_desc=matdesc or None)
    material = provider.create_content_material()
    body = b""
    for off, chunk in parts(data, part_size):
        cipher = material.cipher
        cipher.initialize(provider.decrypt_encrypted_key(material.encrypted_key),
                          provider.decrypt_encrypted_iv(material.encrypted_iv), cipher.calc_offset(off))
        body += cipher.encrypt(chunk)
    ctx = None
    if part_size is not None:
        ctx = oss2.models.MultipartUploadCryptoContext(len(data), part_size)
    headers = dict(material.to_object_meta(multipart_upload_context=ctx))
    return body, headers


def decrypt_v2(priv, headers, body, part_size):
    from alibabacloud_oss_v2.crypto import MasterRsaCipher
    from alibabacloud_oss_v2.crypto.aes_ctr_cipher import AESCtrCipherBuilder
    from alibabacloud_oss_v2 import encryption_client as ec
    lower = {k.lower(): v for k, v in headers.items()}
    if not ec._has_encrypted_header(lower):
        raise SystemExit("v2 SDK: headers do not look encrypted")
    env = ec._get_envelope_from_header(lower)
    if not env.is_valid() or not ec._is_valid_content_alg(env.cek_algorithm):
        raise SystemExit("v2 SDK: invalid envelope")
    builder = AESCtrCipherBuilder(MasterRsaCipher(private_key=priv))
    return b"".join(builder.content_cipher_from_env(env, offset=off).decrypt_content(chunk)
                    for off, chunk in parts(body, part_size))


def decrypt_oss2(priv, headers, body, part_size):
    import oss2
    provider = oss2.crypto.RsaProvider(key_pair={"private_key": priv})
    material = oss2.models.ContentCryptoMaterial(provider.cipher, provider.wrap_alg)
    material.from_object_meta(headers)
    if material.wrap_alg != provider.wrap_alg:
        raise SystemExit("oss2: wrap algorithm mismatch")
    key = provider.decrypt_encrypted_key(material.encrypted_key)
    iv = provider.decrypt_encrypted_iv(material.encrypted_iv)
    out = b""
    for off, chunk in parts(body, part_size):
        cipher = provider.cipher
        cipher.initialize(key, iv, cipher.calc_offset(off))
        out += cipher.decrypt(chunk)
    return out


def main(argv):
    cmd = argv[1]
    if cmd == "keygen":
        keygen(argv[2], argv[3])
        return
    sdk = argv[2]
    if cmd == "encrypt":
        pub, priv = open(argv[3]).read(), open(argv[4]).read()
        matdesc = json.loads(argv[5])
        data = open(argv[6], "rb").read()
        part_size = int(argv[9]) if len(argv) > 9 else None
        fn = encrypt_v2 if sdk == "v2" else encrypt_oss2
        body, headers = fn(pub, priv, matdesc, data, part_size)
        open(argv[7], "wb").write(body)
        json.dump(headers, open(argv[8], "w"))
    elif cmd == "decrypt":
        priv = open(argv[3]).read()
        headers = json.load(open(argv[4]))
        body = open(argv[5], "rb").read()
        part_size = int(argv[7]) if len(argv) > 7 else None
        fn = decrypt_v2 if sdk == "v2" else decrypt_oss2
        open(argv[6], "wb").write(fn(priv, headers, body, part_size))
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)

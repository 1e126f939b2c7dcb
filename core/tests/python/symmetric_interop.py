"""Drives alibabacloud-oss-v2's crypto classes offline with the AES-GCM MasterCipher of
docs/symmetric.md (executed from that file, so the documented code is the tested code).

Commands (headers are JSON objects of header name -> value; KEY is a file of 32 raw bytes):
  encrypt KEY MATDESC IN OUT_BODY OUT_HEADERS [PART_SIZE]
  decrypt KEY HEADERS IN_BODY OUT [PART_SIZE]
With PART_SIZE the data is processed part by part with the SDK's per-part counter
(offset = (n-1) * part_size), and the multipart headers are written.
"""
import json
import os
import re
import sys

DOC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "docs", "symmetric.md")


def master_cipher_class():
    text = open(DOC, encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    if len(blocks) != 1:
        raise SystemExit(f"{DOC}: expected one python block, found {len(blocks)}")
    scope = {}
    exec(compile(blocks[0], DOC, "exec"), scope)
    return scope["MasterAesGcmCipher"]


def parts(data, part_size):
    if part_size is None:
        return [(0, data)]
    return [(off, data[off:off + part_size]) for off in range(0, max(len(data), 1), part_size)]


def encrypt(key, matdesc, data, part_size):
    from alibabacloud_oss_v2.crypto.aes_ctr_cipher import AESCtrCipherBuilder
    from alibabacloud_oss_v2 import encryption_client as ec
    builder = AESCtrCipherBuilder(master_cipher_class()(key, matdesc))
    cc = builder.content_cipher()
    body = b"".join(cc.clone(offset=off).encrypt_content(chunk) for off, chunk in parts(data, part_size))
    headers = {}
    ec._add_crypto_common_header(headers, cc.get_cipher_data())
    if part_size is not None:
        headers["x-oss-meta-client-side-encryption-data-size"] = str(len(data))
        headers["x-oss-meta-client-side-encryption-part-size"] = str(part_size)
    return body, headers


def decrypt(key, headers, body, part_size):
    from alibabacloud_oss_v2.crypto.aes_ctr_cipher import AESCtrCipherBuilder
    from alibabacloud_oss_v2 import encryption_client as ec
    lower = {k.lower(): v for k, v in headers.items()}
    if not ec._has_encrypted_header(lower):
        raise SystemExit("v2 SDK: headers do not look encrypted")
    env = ec._get_envelope_from_header(lower)
    if not env.is_valid() or not ec._is_valid_content_alg(env.cek_algorithm):
        raise SystemExit("v2 SDK: invalid envelope")
    master = master_cipher_class()(key)
    if env.wrap_algorithm != master.get_wrap_algorithm():
        raise SystemExit(f"wrap-alg {env.wrap_algorithm!r} is not {master.get_wrap_algorithm()!r}")
    builder = AESCtrCipherBuilder(master)
    return b"".join(builder.content_cipher_from_env(env, offset=off).decrypt_content(chunk)
                    for off, chunk in parts(body, part_size))


def main(argv):
    cmd, key = argv[1], open(argv[2], "rb").read()
    if cmd == "encrypt":
        data = open(argv[4], "rb").read()
        part_size = int(argv[7]) if len(argv) > 7 else None
        body, headers = encrypt(key, argv[3], data, part_size)
        open(argv[5], "wb").write(body)
        json.dump(headers, open(argv[6], "w"))
    elif cmd == "decrypt":
        headers = json.load(open(argv[3]))
        body = open(argv[4], "rb").read()
        part_size = int(argv[6]) if len(argv) > 6 else None
        open(argv[5], "wb").write(decrypt(key, headers, body, part_size))
    else:
        raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)

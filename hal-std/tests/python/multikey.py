"""Reads one encrypted object with the official Python v2 SDK's multi-key reader, as a user
holding two RSA keys would: k1 is the default master cipher (matdesc {"desc": "k1"}) and k2 is
a decrypt master cipher (matdesc {"desc": "k2"}). The SDK picks k2 only when the object's
matdesc header is *exactly* the text json.dumps gives for {'desc': 'k2'} ({"desc": "k2"});
otherwise it falls back to k1 and fails. Used by hal-std/tests/matdesc_verbatim.rs.

usage: multikey.py KEY OUT K1_PRIVATE K1_PUBLIC K2_PRIVATE K2_PUBLIC
Settings: OSS_ENDPOINT (http://127.0.0.1:PORT), OSS_AK, OSS_SK, OSS_BUCKET.
"""
import os
import sys

import alibabacloud_oss_v2 as oss

KEY, OUT, K1_PRIV, K1_PUB, K2_PRIV, K2_PUB = sys.argv[1:7]
cfg = oss.config.load_default()
cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(os.environ["OSS_AK"], os.environ["OSS_SK"])
cfg.endpoint = os.environ["OSS_ENDPOINT"]
cfg.use_path_style = True
cfg.region = "cn-hangzhou"
cfg.retry_max_attempts = 1


def cipher(desc, private, public):
    return oss.crypto.MasterRsaCipher(
        mat_desc={"desc": desc}, public_key=open(public).read(), private_key=open(private).read())


ec = oss.EncryptionClient(
    oss.Client(cfg), cipher("k1", K1_PRIV, K1_PUB), decrypt_master_ciphers=[cipher("k2", K2_PRIV, K2_PUB)])
body = ec.get_object(oss.GetObjectRequest(bucket=os.environ.get("OSS_BUCKET", "interop"), key=KEY)).body.read()
open(OUT, "wb").write(body)

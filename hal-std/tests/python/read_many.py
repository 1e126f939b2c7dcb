"""Reads client-side-encrypted objects with the official Python v2 SDK (alibabacloud-oss-v2),
for the osscse rewrap test (hal-std/tests/cli_rewrap.rs).

usage: read_many.py PRIVATE_PEM PUBLIC_PEM MATDESC_JSON OUTDIR KEY...

Writes the decrypted KEY number i (0-based) to OUTDIR/i; exits non-zero on the first failure.
Settings: OSS_ENDPOINT (http://127.0.0.1:PORT), OSS_AK, OSS_SK, OSS_BUCKET.
"""
import json
import os
import sys

import alibabacloud_oss_v2 as oss

PRIVATE, PUBLIC, MATDESC, OUTDIR = sys.argv[1:5]
KEYS = sys.argv[5:]

cfg = oss.config.load_default()
cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(os.environ["OSS_AK"], os.environ["OSS_SK"])
cfg.endpoint = os.environ["OSS_ENDPOINT"]
cfg.use_path_style = True
cfg.region = "cn-hangzhou"
cfg.retry_max_attempts = 1
cipher = oss.crypto.MasterRsaCipher(
    mat_desc=json.loads(MATDESC), public_key=open(PUBLIC).read(), private_key=open(PRIVATE).read())
ec = oss.EncryptionClient(oss.Client(cfg), cipher)
for i, key in enumerate(KEYS):
    body = ec.get_object(oss.GetObjectRequest(bucket=os.environ["OSS_BUCKET"], key=key)).body.read()
    with open(os.path.join(OUTDIR, str(i)), "wb") as f:
        f.write(body)

"""Puts and gets objects with the official Python SDK v2's EncryptionClient and the
`MasterAesGcmCipher` class of the README's "Symmetric master keys" section, which this script
takes from README.md and executes, so that the README shows the class that is tested. Used by
hal-std/tests/symmetric_cli.rs against the `osscse` CLI.

usage: symmetric.py put|get KEY FILE CMK_FILE MATDESC
put encrypts FILE with the 32-byte raw CMK in CMK_FILE and matdesc MATDESC (JSON text, or "");
get writes the decrypted object to FILE.
Settings: OSS_ENDPOINT (http://127.0.0.1:PORT), OSS_AK, OSS_SK, OSS_BUCKET.
"""
import os
import re
import sys

import alibabacloud_oss_v2 as oss

ACTION, KEY, FILE, CMK_FILE, MATDESC = sys.argv[1:6]
README = os.path.join(os.path.dirname(__file__), "..", "..", "..", "README.md")
section = open(README, encoding="utf-8").read().split("## Symmetric master keys", 1)[1]
code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
namespace = {}
exec(compile(code, "README.md (Symmetric master keys)", "exec"), namespace)
MasterAesGcmCipher = namespace["MasterAesGcmCipher"]

cfg = oss.config.load_default()
cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(os.environ["OSS_AK"], os.environ["OSS_SK"])
cfg.endpoint = os.environ["OSS_ENDPOINT"]
cfg.use_path_style = True
cfg.region = "cn-hangzhou"
cfg.retry_max_attempts = 1
BUCKET = os.environ.get("OSS_BUCKET", "interop")

ec = oss.EncryptionClient(oss.Client(cfg), MasterAesGcmCipher(open(CMK_FILE, "rb").read(), MATDESC))
if ACTION == "put":
    ec.put_object(oss.PutObjectRequest(bucket=BUCKET, key=KEY, body=open(FILE, "rb").read()))
elif ACTION == "get":
    open(FILE, "wb").write(ec.get_object(oss.GetObjectRequest(bucket=BUCKET, key=KEY)).body.read())
else:
    raise SystemExit("unknown action " + ACTION)

"""Reads objects back with the official alibabacloud-oss-v2 EncryptionClient and compares them.

usage: sdk_v2_decrypt.py PRIVATE_PEM PUBLIC_PEM KEY=EXPECTED_FILE...
env: OSS_ENDPOINT (http://127.0.0.1:PORT), OSS_AK, OSS_SK, OSS_BUCKET
Prints "OK <key>" per object; exits 1 on the first mismatch.
"""
import os
import sys

import alibabacloud_oss_v2 as oss


def main():
    private = open(sys.argv[1]).read()
    public = open(sys.argv[2]).read()
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(os.environ["OSS_AK"], os.environ["OSS_SK"])
    cfg.endpoint = os.environ["OSS_ENDPOINT"]
    cfg.use_path_style = True
    cfg.region = "cn-hangzhou"
    cfg.retry_max_attempts = 1
    cipher = oss.crypto.MasterRsaCipher(mat_desc={}, public_key=public, private_key=private)
    ec = oss.EncryptionClient(oss.Client(cfg), cipher)
    bucket = os.environ["OSS_BUCKET"]
    for pair in sys.argv[3:]:
        key, path = pair.split("=", 1)
        expected = open(path, "rb").read()
        got = ec.get_object(oss.GetObjectRequest(bucket=bucket, key=key)).body.read()
        if got != expected:
            print("FAILED %s: %d bytes, expected %d" % (key, len(got), len(expected)), file=sys.stderr)
            sys.exit(1)
        print("OK", key, flush=True)


main()

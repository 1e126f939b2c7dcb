"""oss2 CryptoBucket + AliKMSProvider against the loopback OSS and KMS servers.

usage: kms_oss2.py put|get KEY FILE
env: OSS_ENDPOINT, OSS_BUCKET, AK, SK (shared by both servers), KMS_HOSTPORT, KMS_CMK,
     KMS_PASSPHRASE (optional)
put: encrypts FILE to KEY; get: downloads and decrypts KEY into FILE.
"""
import os
import sys

import oss2
from oss2.crypto import AliKMSProvider

ACTION, KEY, FILE = sys.argv[1:4]
AK, SK = os.environ["AK"], os.environ["SK"]
KMS = os.environ["KMS_HOSTPORT"]

provider = AliKMSProvider(AK, SK, "cn-hangzhou", os.environ["KMS_CMK"],
                          passphrase=os.environ.get("KMS_PASSPHRASE") or None)
# AliKMSProvider builds its own AcsClient and https requests: send them to the loopback KMS
# over http instead (the only change to the SDK's behaviour).
_do = provider.kms_client.do_action_with_exception


def _loopback(req):
    req.set_protocol_type("http")
    req.set_endpoint(KMS)
    return _do(req)


provider.kms_client.do_action_with_exception = _loopback
bucket = oss2.CryptoBucket(oss2.Auth(AK, SK), os.environ["OSS_ENDPOINT"], os.environ["OSS_BUCKET"],
                           crypto_provider=provider)
if ACTION == "put":
    with open(FILE, "rb") as f:
        bucket.put_object(KEY, f.read())
elif ACTION == "get":
    data = bucket.get_object(KEY).read()
    with open(FILE, "wb") as f:
        f.write(data)
else:
    raise SystemExit("unknown action " + ACTION)

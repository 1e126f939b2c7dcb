"""The official aliyun-python-sdk-kms client against the loopback KMS server.

usage: kms_sdk.py HOST:PORT AK SK KEY_ID BLOB_FROM_RUST
Runs Encrypt, Decrypt and GenerateDataKey (with and without an EncryptionContext), decrypts a
blob written by osscse's Rust client, then expects a ServerException with a wrong secret.
Prints one JSON object on success; exits non-zero with a message otherwise.
"""
import base64
import json
import sys

from aliyunsdkcore import client
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkkms.request.v20160120 import DecryptRequest, EncryptRequest, GenerateDataKeyRequest

ENDPOINT, AK, SK, KEY_ID, RUST_BLOB = sys.argv[1:6]
REGION = "cn-hangzhou"


def call(acs, req):
    # The SDK's KMS requests insist on https; the loopback server speaks http.
    req.set_protocol_type("http")
    req.set_endpoint(ENDPOINT)
    return json.loads(acs.do_action_with_exception(req))


def main():
    acs = client.AcsClient(AK, SK, REGION, auto_retry=False)
    out = {}
    for ctx in (None, '{"x-passphrase":"pw"}'):
        req = EncryptRequest.EncryptRequest()
        req.set_KeyId(KEY_ID)
        req.set_Plaintext("aGVsbG8gS01TIQ==")
        if ctx:
            req.set_EncryptionContext(ctx)
        enc = call(acs, req)
        assert enc["KeyId"] == KEY_ID, enc
        blob = enc["CiphertextBlob"]
        assert base64.b64decode(blob).decode().startswith(KEY_ID), blob
        req = DecryptRequest.DecryptRequest()
        req.set_CiphertextBlob(blob)
        if ctx:
            req.set_EncryptionContext(ctx)
        dec = call(acs, req)
        assert dec["Plaintext"] == "aGVsbG8gS01TIQ==", dec
        out["encrypt_decrypt" + ("_ctx" if ctx else "")] = "ok"

    req = GenerateDataKeyRequest.GenerateDataKeyRequest()
    req.set_KeyId(KEY_ID)
    req.set_KeySpec("AES_256")
    req.set_NumberOfBytes(32)
    gen = call(acs, req)
    raw = base64.b64decode(gen["Plaintext"])
    assert len(raw) == 32, gen
    req = DecryptRequest.DecryptRequest()
    req.set_CiphertextBlob(gen["CiphertextBlob"])
    assert call(acs, req)["Plaintext"] == gen["Plaintext"]
    out["generate_data_key"] = "ok"

    req = DecryptRequest.DecryptRequest()
    req.set_CiphertextBlob(RUST_BLOB)
    out["rust_blob_plaintext"] = call(acs, req)["Plaintext"]

    bad = client.AcsClient(AK, SK + "x", REGION, auto_retry=False)
    req = EncryptRequest.EncryptRequest()
    req.set_KeyId(KEY_ID)
    req.set_Plaintext("AAAA")
    try:
        call(bad, req)
        raise SystemExit("a wrong secret was accepted")
    except ServerException as e:
        out["wrong_secret"] = e.get_error_code()
    print(json.dumps(out))


main()

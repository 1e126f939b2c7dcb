"""Drives oss2 (V1 signing; an IP endpoint makes it use path style) against the loopback server.

usage: sdk_oss2.py plain|presign-sts|wrong-secret|crypto|crypto-bad-start
"""
import os
import sys
import urllib.error
import urllib.request

import oss2
from oss2.crypto import RsaProvider
from oss2.models import MultipartUploadCryptoContext, PartInfo

from _common import AK, BUCKET, ENDPOINT, SK, expect, payload, rsa_pems, step


def bucket(secret=SK):
    return oss2.Bucket(oss2.Auth(AK, secret), ENDPOINT, BUCKET)


def plain():
    b = bucket()
    b.create_bucket()
    expect(b.get_bucket_info().name == BUCKET, "bucket info")
    data = payload(5000, 2)
    b.put_object("oss2/plain.bin", data, headers={"x-oss-meta-who": "oss2"})
    step("put")
    r = b.get_object("oss2/plain.bin")
    expect(r.read() == data, "get body")
    expect(r.headers.get("x-oss-meta-who") == "oss2", "get metadata")
    step("get")
    r = b.get_object("oss2/plain.bin", byte_range=(1000, 1999), headers={"x-oss-range-behavior": "standard"})
    expect(r.status == 206 and r.read() == data[1000:2000], "ranged get")
    step("range")
    r = b.head_object("oss2/plain.bin")
    expect(r.content_length == 5000 and r.server_crc is not None, "head")
    step("head")
    b.put_object("oss2/other", b"x")
    keys = [o.key for o in oss2.ObjectIterator(b, prefix="oss2/", max_keys=1)]
    expect(keys == ["oss2/other", "oss2/plain.bin"], "list v1 pages: %r" % keys)
    keys = [o.key for o in oss2.ObjectIteratorV2(b, prefix="oss2/", max_keys=1)]
    expect(keys == ["oss2/other", "oss2/plain.bin"], "list v2 pages: %r" % keys)
    odd = "oss2odd/a key+&<é>%20.txt"
    b.put_object(odd, b"odd")
    keys = [o.key for o in oss2.ObjectIteratorV2(b, prefix="oss2odd/")]
    expect(keys == [odd], "odd key listed as %r" % keys)
    expect(b.get_object(odd).read() == b"odd", "odd key get")
    step("list")
    big = payload(250 * 1024, 9)
    upload_id = b.init_multipart_upload("oss2/mp.bin").upload_id
    parts = []
    for i, off in enumerate(range(0, len(big), 100 * 1024)):
        r = b.upload_part("oss2/mp.bin", upload_id, i + 1, big[off:off + 100 * 1024])
        parts.append(PartInfo(i + 1, r.etag))
    b.complete_multipart_upload("oss2/mp.bin", upload_id, parts)
    expect(b.get_object("oss2/mp.bin").read() == big, "multipart get")
    step("multipart")
    b.delete_object("oss2/plain.bin")
    expect(not b.object_exists("oss2/plain.bin"), "object still there after delete")
    step("delete")


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def presign_and_sts():
    """Presigned V1 URLs and STS tokens (the server runs with token OSS_TOKEN)."""
    b = oss2.Bucket(oss2.StsAuth(AK, SK, os.environ["OSS_TOKEN"]), ENDPOINT, BUCKET)
    b.put_object("oss2/sts", b"temporary")
    expect(b.get_object("oss2/sts").read() == b"temporary", "sts get")
    step("sts header")
    url = b.sign_url("GET", "oss2/sts", 300)
    expect("Signature=" in url and "security-token=" in url, "presigned url: " + url)
    expect(fetch(url) == (200, b"temporary"), "presigned get")
    status, body = fetch(url.replace("sts?", "other?", 1))
    expect(status == 403 and b"SignatureDoesNotMatch" in body, "tampered presigned url: %d" % status)
    step("presign")
    try:
        bucket().get_object("oss2/sts")
        expect(False, "request without the token accepted")
    except oss2.exceptions.OssError as e:
        expect(e.status == 403, "no token: %s" % e)
    step("sts required")


def wrong_secret():
    bucket().put_object("oss2/secret", b"s")
    bad = bucket("not-the-secret")
    calls = {
        "put": lambda: bad.put_object("oss2/secret", b"s"),
        "get": lambda: bad.get_object("oss2/secret"),
        "range": lambda: bad.get_object("oss2/secret", byte_range=(0, 0)),
        "list": lambda: bad.list_objects_v2(),
        "delete": lambda: bad.delete_object("oss2/secret"),
        "multipart": lambda: bad.init_multipart_upload("oss2/m"),
    }
    for name, call in calls.items():
        try:
            call()
            expect(False, name + " succeeded with a wrong secret")
        except oss2.exceptions.OssError as e:
            expect(e.code == "SignatureDoesNotMatch", "%s: %s" % (name, e))
        step("wrong-secret " + name)
    try:
        bad.head_object("oss2/secret")
        expect(False, "head succeeded with a wrong secret")
    except oss2.exceptions.OssError as e:
        expect(e.status == 403, "head: %s" % e)
    step("wrong-secret head")


def crypto_bucket():
    private, public = rsa_pems()
    provider = RsaProvider(key_pair={"private_key": private, "public_key": public}, mat_desc={"desc": "osscse interop"})
    return oss2.CryptoBucket(oss2.Auth(AK, SK), ENDPOINT, BUCKET, crypto_provider=provider)


def crypto():
    cb = crypto_bucket()
    data = payload(3000, 4)
    cb.put_object("oss2/enc.bin", data)
    expect(cb.get_object("oss2/enc.bin").read() == data, "encrypted get")
    expect(cb.get_object("oss2/enc.bin", byte_range=(1000, 1999)).read() == data[1000:2000], "encrypted ranged get")
    raw = bucket().get_object("oss2/enc.bin").read()
    expect(raw != data and len(raw) == len(data), "stored bytes are ciphertext")
    step("crypto single")
    big = payload(250 * 1024, 6)
    part = 100 * 1024
    ctx = MultipartUploadCryptoContext(data_size=len(big), part_size=part)
    upload_id = cb.init_multipart_upload("oss2/enc-mp.bin", upload_context=ctx).upload_id
    parts = []
    for i, off in enumerate(range(0, len(big), part)):
        r = cb.upload_part("oss2/enc-mp.bin", upload_id, i + 1, big[off:off + part], upload_context=ctx)
        parts.append(PartInfo(i + 1, r.etag))
    cb.complete_multipart_upload("oss2/enc-mp.bin", upload_id, parts)
    expect(cb.get_object("oss2/enc-mp.bin").read() == big, "encrypted multipart get")
    expect(cb.get_object("oss2/enc-mp.bin", byte_range=(102390, 102500)).read() == big[102390:102501],
           "encrypted multipart ranged get")
    step("crypto multipart")


def crypto_bad_start():
    """UploadPart with the envelope of another upload (a different start) must be refused."""
    cb = crypto_bucket()
    part = 100 * 1024
    ctx_a = MultipartUploadCryptoContext(data_size=part, part_size=part)
    ctx_b = MultipartUploadCryptoContext(data_size=part, part_size=part)
    upload_a = cb.init_multipart_upload("oss2/bad", upload_context=ctx_a).upload_id
    cb.init_multipart_upload("oss2/bad", upload_context=ctx_b)
    try:
        cb.upload_part("oss2/bad", upload_a, 1, payload(part), upload_context=ctx_b)
        expect(False, "UploadPart with a different start was accepted")
    except oss2.exceptions.OssError as e:
        expect(e.code == "InvalidArgument" and "start" in e.message, "bad start: %s" % e)
    step("crypto bad start")


{"plain": plain, "presign-sts": presign_and_sts, "wrong-secret": wrong_secret, "crypto": crypto, "crypto-bad-start": crypto_bad_start}[sys.argv[1]]()

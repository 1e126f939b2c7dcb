"""Drives alibabacloud-oss-v2 (V4 signing, path style) against the loopback server.

usage: sdk_v2.py plain|presign-sts|wrong-secret|crypto|crypto-bad-start
"""
import datetime
import os
import sys
import urllib.error
import urllib.request

import alibabacloud_oss_v2 as oss

from _common import AK, BUCKET, ENDPOINT, SK, expect, payload, rsa_pems, step


def client(secret=SK, token=None):
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(AK, secret, token)
    cfg.endpoint = ENDPOINT
    cfg.use_path_style = True
    cfg.region = "cn-hangzhou"
    cfg.retry_max_attempts = 1
    return oss.Client(cfg)


def service_code(err):
    se = err.unwrap() if hasattr(err, "unwrap") else err
    return getattr(se, "code", None)


def plain():
    c = client()
    c.put_bucket(oss.PutBucketRequest(bucket=BUCKET))
    info = c.get_bucket_info(oss.GetBucketInfoRequest(bucket=BUCKET))
    expect(info.bucket_info.name == BUCKET, "bucket info")
    data = payload(5000)
    r = c.put_object(oss.PutObjectRequest(bucket=BUCKET, key="v2/plain.bin", body=data, metadata={"who": "v2"}))
    expect(r.status_code == 200, "put status")
    step("put")
    r = c.get_object(oss.GetObjectRequest(bucket=BUCKET, key="v2/plain.bin"))
    expect(r.body.read() == data, "get body")
    expect(r.metadata.get("who") == "v2", "get metadata %r" % (r.metadata,))
    step("get")
    r = c.get_object(oss.GetObjectRequest(bucket=BUCKET, key="v2/plain.bin", range_header="bytes=1000-1999", range_behavior="standard"))
    expect(r.status_code == 206 and r.body.read() == data[1000:2000], "ranged get")
    step("range")
    r = c.head_object(oss.HeadObjectRequest(bucket=BUCKET, key="v2/plain.bin"))
    expect(r.content_length == 5000 and r.hash_crc64 is not None, "head")
    step("head")
    c.put_object(oss.PutObjectRequest(bucket=BUCKET, key="v2/other", body=b"x"))
    r = c.list_objects_v2(oss.ListObjectsV2Request(bucket=BUCKET, prefix="v2/", max_keys=1))
    expect([o.key for o in r.contents] == ["v2/other"] and r.is_truncated, "list page 1")
    r = c.list_objects_v2(oss.ListObjectsV2Request(bucket=BUCKET, prefix="v2/", continuation_token=r.next_continuation_token))
    expect([o.key for o in r.contents] == ["v2/plain.bin"], "list page 2")
    odd = "v2odd/a key+&<é>%20.txt"
    c.put_object(oss.PutObjectRequest(bucket=BUCKET, key=odd, body=b"odd"))
    r = c.list_objects_v2(oss.ListObjectsV2Request(bucket=BUCKET, prefix="v2odd/"))
    expect([o.key for o in r.contents] == [odd], "odd key listed as %r" % [o.key for o in r.contents])
    expect(c.get_object(oss.GetObjectRequest(bucket=BUCKET, key=odd)).body.read() == b"odd", "odd key get")
    step("list")
    # Multipart: 2 full parts of 100 KiB and a short last part.
    big = payload(250 * 1024, 7)
    init = c.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=BUCKET, key="v2/mp.bin"))
    parts = []
    for i, off in enumerate(range(0, len(big), 100 * 1024)):
        r = c.upload_part(oss.UploadPartRequest(bucket=BUCKET, key="v2/mp.bin", upload_id=init.upload_id,
                                                part_number=i + 1, body=big[off:off + 100 * 1024]))
        parts.append(oss.UploadPart(part_number=i + 1, etag=r.etag))
    c.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
        bucket=BUCKET, key="v2/mp.bin", upload_id=init.upload_id,
        complete_multipart_upload=oss.CompleteMultipartUpload(parts=parts)))
    expect(c.get_object(oss.GetObjectRequest(bucket=BUCKET, key="v2/mp.bin")).body.read() == big, "multipart get")
    step("multipart")
    c.delete_object(oss.DeleteObjectRequest(bucket=BUCKET, key="v2/plain.bin"))
    try:
        c.head_object(oss.HeadObjectRequest(bucket=BUCKET, key="v2/plain.bin"))
        expect(False, "object still there after delete")
    except oss.exceptions.OperationError as e:
        expect(getattr(e.unwrap(), "status_code", 0) == 404, "head after delete: %s" % e)
    step("delete")


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def presign_and_sts():
    """Presigned V4 URLs and STS tokens (the server runs with token OSS_TOKEN)."""
    token = os.environ["OSS_TOKEN"]
    c = client(token=token)
    c.put_object(oss.PutObjectRequest(bucket=BUCKET, key="v2/sts", body=b"temporary"))
    expect(c.get_object(oss.GetObjectRequest(bucket=BUCKET, key="v2/sts")).body.read() == b"temporary", "sts get")
    step("sts header")
    url = c.presign(oss.GetObjectRequest(bucket=BUCKET, key="v2/sts"), expires=datetime.timedelta(minutes=5)).url
    expect("x-oss-signature=" in url and "x-oss-security-token=" in url, "presigned url: " + url)
    expect(fetch(url) == (200, b"temporary"), "presigned get")
    status, body = fetch(url.replace("sts?", "other?", 1))
    expect(status == 403 and b"SignatureDoesNotMatch" in body, "tampered presigned url: %d" % status)
    step("presign")
    try:
        client().get_object(oss.GetObjectRequest(bucket=BUCKET, key="v2/sts"))
        expect(False, "request without the token accepted")
    except oss.exceptions.OperationError as e:
        expect(getattr(e.unwrap(), "status_code", 0) == 403, "no token: %s" % e)
    step("sts required")


def wrong_secret():
    good = client()
    good.put_object(oss.PutObjectRequest(bucket=BUCKET, key="v2/secret", body=b"s"))
    bad = client("not-the-secret")
    calls = {
        "put": lambda: bad.put_object(oss.PutObjectRequest(bucket=BUCKET, key="v2/secret", body=b"s")),
        "get": lambda: bad.get_object(oss.GetObjectRequest(bucket=BUCKET, key="v2/secret")),
        "range": lambda: bad.get_object(oss.GetObjectRequest(bucket=BUCKET, key="v2/secret", range_header="bytes=0-0")),
        "list": lambda: bad.list_objects_v2(oss.ListObjectsV2Request(bucket=BUCKET)),
        "delete": lambda: bad.delete_object(oss.DeleteObjectRequest(bucket=BUCKET, key="v2/secret")),
        "multipart": lambda: bad.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=BUCKET, key="v2/m")),
    }
    for name, call in calls.items():
        try:
            call()
            expect(False, name + " succeeded with a wrong secret")
        except oss.exceptions.OperationError as e:
            expect(service_code(e) == "SignatureDoesNotMatch", "%s: %s" % (name, e))
        step("wrong-secret " + name)
    # HEAD has no body: the SDK sees 403 only.
    try:
        bad.head_object(oss.HeadObjectRequest(bucket=BUCKET, key="v2/secret"))
        expect(False, "head succeeded with a wrong secret")
    except oss.exceptions.OperationError as e:
        expect(getattr(e.unwrap(), "status_code", 0) == 403, "head: %s" % e)
    step("wrong-secret head")


def crypto_client():
    private, public = rsa_pems()
    cipher = oss.crypto.MasterRsaCipher(mat_desc={"desc": "osscse interop"}, public_key=public, private_key=private)
    return oss.EncryptionClient(client(), cipher)


def crypto():
    ec = crypto_client()
    data = payload(3000, 3)
    ec.put_object(oss.PutObjectRequest(bucket=BUCKET, key="v2/enc.bin", body=data))
    r = ec.get_object(oss.GetObjectRequest(bucket=BUCKET, key="v2/enc.bin"))
    expect(r.body.read() == data, "encrypted get")
    r = ec.get_object(oss.GetObjectRequest(bucket=BUCKET, key="v2/enc.bin", range_header="bytes=1000-1999"))
    expect(r.body.read() == data[1000:2000], "encrypted ranged get")
    raw = client().get_object(oss.GetObjectRequest(bucket=BUCKET, key="v2/enc.bin")).body.read()
    expect(raw != data and len(raw) == len(data), "stored bytes are ciphertext")
    step("crypto single")
    big = payload(250 * 1024, 5)
    part = 100 * 1024
    init = ec.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(
        bucket=BUCKET, key="v2/enc-mp.bin", cse_part_size=part, cse_data_size=len(big)))
    parts = []
    for i, off in enumerate(range(0, len(big), part)):
        r = ec.upload_part(oss.UploadPartRequest(bucket=BUCKET, key="v2/enc-mp.bin", upload_id=init.upload_id,
                                                 part_number=i + 1, body=big[off:off + part],
                                                 cse_multipart_context=init.cse_multipart_context))
        parts.append(oss.UploadPart(part_number=i + 1, etag=r.etag))
    ec.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
        bucket=BUCKET, key="v2/enc-mp.bin", upload_id=init.upload_id,
        complete_multipart_upload=oss.CompleteMultipartUpload(parts=parts)))
    expect(ec.get_object(oss.GetObjectRequest(bucket=BUCKET, key="v2/enc-mp.bin")).body.read() == big, "encrypted multipart get")
    r = ec.get_object(oss.GetObjectRequest(bucket=BUCKET, key="v2/enc-mp.bin", range_header="bytes=102390-102500"))
    expect(r.body.read() == big[102390:102501], "encrypted multipart ranged get")
    step("crypto multipart")


def crypto_bad_start():
    """UploadPart with the envelope of another upload (a different start) must be refused."""
    ec = crypto_client()
    part = 100 * 1024
    a = ec.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=BUCKET, key="v2/bad", cse_part_size=part, cse_data_size=part))
    b = ec.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(bucket=BUCKET, key="v2/bad", cse_part_size=part, cse_data_size=part))
    try:
        ec.upload_part(oss.UploadPartRequest(bucket=BUCKET, key="v2/bad", upload_id=a.upload_id, part_number=1,
                                             body=payload(part), cse_multipart_context=b.cse_multipart_context))
        expect(False, "UploadPart with a different start was accepted")
    except oss.exceptions.OperationError as e:
        expect(service_code(e) == "InvalidArgument" and "start" in str(e), "bad start: %s" % e)
    step("crypto bad start")


{"plain": plain, "presign-sts": presign_and_sts, "wrong-secret": wrong_secret, "crypto": crypto, "crypto-bad-start": crypto_bad_start}[sys.argv[1]]()

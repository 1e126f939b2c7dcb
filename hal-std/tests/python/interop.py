"""Puts and gets encrypted objects with the official Python SDKs' encryption clients, for the
osscse-std interop test (hal-std/tests/python_interop.rs).

usage: interop.py v2|oss2 put|put-mp|get|get-range KEY FILE PRIVATE_PEM PUBLIC_PEM [FIRST LAST]

put/put-mp encrypt FILE (multipart: 100 KiB parts) with matdesc {"k": "v"}; get writes the
decrypted object to FILE; get-range writes bytes FIRST..LAST (inclusive).
Settings: OSS_ENDPOINT (http://127.0.0.1:PORT), OSS_AK, OSS_SK, OSS_BUCKET.
"""
import os
import sys

SDK, ACTION, KEY, FILE, PRIVATE, PUBLIC = sys.argv[1:7]
RANGE = tuple(int(x) for x in sys.argv[7:9])
ENDPOINT, AK, SK = os.environ["OSS_ENDPOINT"], os.environ["OSS_AK"], os.environ["OSS_SK"]
BUCKET = os.environ.get("OSS_BUCKET", "interop")
MATDESC = {"k": "v"}
PART = 100 * 1024

private_pem = open(PRIVATE).read()
public_pem = open(PUBLIC).read()


def v2():
    import alibabacloud_oss_v2 as oss

    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(AK, SK)
    cfg.endpoint = ENDPOINT
    cfg.use_path_style = True
    cfg.region = "cn-hangzhou"
    cfg.retry_max_attempts = 1
    cipher = oss.crypto.MasterRsaCipher(mat_desc=MATDESC, public_key=public_pem, private_key=private_pem)
    ec = oss.EncryptionClient(oss.Client(cfg), cipher)
    if ACTION == "put":
        ec.put_object(oss.PutObjectRequest(bucket=BUCKET, key=KEY, body=open(FILE, "rb").read()))
    elif ACTION == "put-mp":
        data = open(FILE, "rb").read()
        init = ec.initiate_multipart_upload(oss.InitiateMultipartUploadRequest(
            bucket=BUCKET, key=KEY, cse_part_size=PART, cse_data_size=len(data)))
        parts = []
        for i, off in enumerate(range(0, len(data), PART)):
            r = ec.upload_part(oss.UploadPartRequest(
                bucket=BUCKET, key=KEY, upload_id=init.upload_id, part_number=i + 1,
                body=data[off:off + PART], cse_multipart_context=init.cse_multipart_context))
            parts.append(oss.UploadPart(part_number=i + 1, etag=r.etag))
        ec.complete_multipart_upload(oss.CompleteMultipartUploadRequest(
            bucket=BUCKET, key=KEY, upload_id=init.upload_id,
            complete_multipart_upload=oss.CompleteMultipartUpload(parts=parts)))
    elif ACTION == "get":
        open(FILE, "wb").write(ec.get_object(oss.GetObjectRequest(bucket=BUCKET, key=KEY)).body.read())
    elif ACTION == "get-range":
        r = ec.get_object(oss.GetObjectRequest(bucket=BUCKET, key=KEY, range_header="bytes=%d-%d" % RANGE))
        open(FILE, "wb").write(r.body.read())
    else:
        raise SystemExit("unknown action " + ACTION)


def oss2_sdk():
    import oss2
    from oss2.crypto import RsaProvider
    from oss2.models import MultipartUploadCryptoContext, PartInfo

    provider = RsaProvider(key_pair={"private_key": private_pem, "public_key": public_pem}, mat_desc=MATDESC)
    cb = oss2.CryptoBucket(oss2.Auth(AK, SK), ENDPOINT, BUCKET, crypto_provider=provider)
    if ACTION == "put":
        cb.put_object(KEY, open(FILE, "rb").read())
    elif ACTION == "put-mp":
        data = open(FILE, "rb").read()
        ctx = MultipartUploadCryptoContext(data_size=len(data), part_size=PART)
        upload_id = cb.init_multipart_upload(KEY, upload_context=ctx).upload_id
        parts = []
        for i, off in enumerate(range(0, len(data), PART)):
            r = cb.upload_part(KEY, upload_id, i + 1, data[off:off + PART], upload_context=ctx)
            parts.append(PartInfo(i + 1, r.etag))
        cb.complete_multipart_upload(KEY, upload_id, parts)
    elif ACTION == "get":
        open(FILE, "wb").write(cb.get_object(KEY).read())
    elif ACTION == "get-range":
        open(FILE, "wb").write(cb.get_object(KEY, byte_range=RANGE).read())
    else:
        raise SystemExit("unknown action " + ACTION)


{"v2": v2, "oss2": oss2_sdk}[SDK]()

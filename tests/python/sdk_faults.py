"""Shows that alibabacloud-oss-v2 sees each fault knob of the loopback server.

The Rust test stores `faults/data` (10 000 bytes of payload(10000)) and sets the knob first.
usage: sdk_faults.py fail-first|reset|throttle|truncate|wrong-crc|ignore-range
"""
import sys
import time

import alibabacloud_oss_v2 as oss

from _common import AK, BUCKET, ENDPOINT, SK, expect, payload, step

KEY = "faults/data"
DATA = payload(10000)


def client(attempts=1):
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(AK, SK)
    cfg.endpoint = ENDPOINT
    cfg.use_path_style = True
    cfg.region = "cn-hangzhou"
    cfg.retry_max_attempts = attempts
    return oss.Client(cfg)


def get(c, **kw):
    return c.get_object(oss.GetObjectRequest(bucket=BUCKET, key=KEY, **kw))


def fail_first():
    # The server fails the next 2 requests with 503.
    try:
        get(client())
        expect(False, "no 503 seen")
    except oss.exceptions.OperationError as e:
        se = e.unwrap()
        expect(getattr(se, "status_code", 0) == 503 and se.code == "ServiceUnavailable", "503: %s" % e)
    step("503 seen")
    # One failure left: a retrying client gets through.
    expect(get(client(attempts=3)).body.read() == DATA, "retry after 503")
    step("retry succeeded")


def reset():
    try:
        client().put_object(oss.PutObjectRequest(bucket=BUCKET, key="faults/big", body=payload(4 << 20)))
        expect(False, "upload survived a connection reset")
    except Exception as e:  # the SDK wraps the requests ConnectionError
        print("detail", repr(e), flush=True)
        text = repr(e).lower()
        expect("connection aborted" in text or "connection reset" in text or "broken pipe" in text, "reset: %r" % e)
    step("reset seen")


def throttle():
    t = time.monotonic()
    expect(get(client()).body.read() == DATA, "throttled body")
    elapsed = time.monotonic() - t
    # 10 000 bytes at 20 000 B/s: never under ~0.45 s.
    expect(elapsed >= 0.45, "throttle not felt: %.3f s" % elapsed)
    step("throttle felt")


def truncate():
    try:
        body = get(client()).body.read()
        expect(len(body) < len(DATA), "truncated body read whole")
    except Exception as e:
        print("detail", repr(e), flush=True)
        text = repr(e).lower()
        expect("incompleteread" in text, "truncate: %r" % e)
    step("truncation seen")


def wrong_crc():
    try:
        client().put_object(oss.PutObjectRequest(bucket=BUCKET, key="faults/crc", body=DATA))
        expect(False, "upload with a wrong CRC answer accepted")
    except Exception as e:
        print("detail", repr(e), flush=True)
        expect("crc is inconsistent" in repr(e), "crc: %r" % e)
    step("crc mismatch seen")


def ignore_range():
    r = get(client(), range_header="bytes=0-99", range_behavior="standard")
    body = r.body.read()
    expect(r.status_code == 200 and body == DATA, "range honoured despite the fault: %d %d" % (r.status_code, len(body)))
    step("range ignored seen")


{
    "fail-first": fail_first,
    "reset": reset,
    "throttle": throttle,
    "truncate": truncate,
    "wrong-crc": wrong_crc,
    "ignore-range": ignore_range,
}[sys.argv[1]]()

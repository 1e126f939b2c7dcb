"""Shared helpers for the SDK scripts: settings from the environment, a fresh RSA key, checks."""
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ENDPOINT = os.environ["OSS_ENDPOINT"]  # http://127.0.0.1:PORT
AK = os.environ["OSS_AK"]
SK = os.environ["OSS_SK"]
BUCKET = os.environ.get("OSS_BUCKET", "interop")


def step(name):
    print("OK", name, flush=True)


def expect(cond, what):
    if not cond:
        print("FAILED", what, file=sys.stderr, flush=True)
        sys.exit(1)


def rsa_pems():
    """A fresh 2048-bit key as (PKCS#8 private PEM, SPKI public PEM) strings."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    return private, public


def payload(n, seed=1):
    return bytes((i * 31 + seed) & 0xFF for i in range(n))

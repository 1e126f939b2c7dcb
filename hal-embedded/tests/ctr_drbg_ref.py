"""Independent AES-256 CTR_DRBG (SP 800-90A §10.2.1, no derivation function) for cross-checks.

Built only on `cryptography`'s AES-ECB. Reads operations from stdin, one per line:
  inst <entropy_hex> <personalization_hex|->
  reseed <entropy_hex> <additional_hex|->
  gen <length> <additional_hex|->
and prints the hex output of every `gen`, one per line.
"""
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SEEDLEN = 48


def aes(key, block):
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()


def inc(v):
    return ((int.from_bytes(v, "big") + 1) % (1 << 128)).to_bytes(16, "big")


def pad(data):
    assert len(data) <= SEEDLEN
    return data + bytes(SEEDLEN - len(data))


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


class CtrDrbg:
    def __init__(self, entropy, pers):
        self.key = bytes(32)
        self.v = bytes(16)
        self.update(xor(entropy, pad(pers)))

    def update(self, provided):
        temp = b""
        while len(temp) < SEEDLEN:
            self.v = inc(self.v)
            temp += aes(self.key, self.v)
        temp = xor(temp[:SEEDLEN], provided)
        self.key, self.v = temp[:32], temp[32:]

    def reseed(self, entropy, additional):
        self.update(xor(entropy, pad(additional)))

    def generate(self, n, additional):
        if additional:
            self.update(pad(additional))
        out = b""
        while len(out) < n:
            self.v = inc(self.v)
            out += aes(self.key, self.v)
        self.update(pad(additional))
        return out[:n]


def arg(s):
    return b"" if s == "-" else bytes.fromhex(s)


def main():
    drbg = None
    for line in sys.stdin:
        op = line.split()
        if not op:
            continue
        if op[0] == "inst":
            drbg = CtrDrbg(arg(op[1]), arg(op[2]))
        elif op[0] == "reseed":
            drbg.reseed(arg(op[1]), arg(op[2]))
        elif op[0] == "gen":
            print(drbg.generate(int(op[1]), arg(op[2])).hex())
        else:
            raise SystemExit(f"unknown op {op[0]}")


if __name__ == "__main__":
    main()

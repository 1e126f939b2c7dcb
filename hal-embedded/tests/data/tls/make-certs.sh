#!/usr/bin/env bash
# Regenerates the TLS test PKI of hal-embedded/tests/tls.rs (run from this directory).
# Two independent CAs (P-256, ECDSA-SHA256, 30 years), server certificates for
# CN=telemetry.oss-tls.test (bucket "telemetry", virtual-hosted) from each, and one from the
# pinned CA for the wrong name.
# Everything is DER; the private keys are test-only.
set -euo pipefail
days=10950 # 30 years: the tests assume a clock before then (tls.rs moves it past notAfter)
ca() { # name subject
  openssl ecparam -name prime256v1 -genkey -noout -out "$1.key.pem"
  openssl req -x509 -new -key "$1.key.pem" -sha256 -days $days -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
    -outform DER -out "$1.der"
}
leaf() { # name ca cn
  openssl ecparam -name prime256v1 -genkey -noout -out "$1.key.pem"
  openssl pkcs8 -topk8 -nocrypt -in "$1.key.pem" -outform DER -out "$1.key.der"
  openssl req -new -key "$1.key.pem" -subj "/CN=$3" -out "$1.csr"
  openssl x509 -req -in "$1.csr" -CA "$2.der" -CAform DER -CAkey "$2.key.pem" -sha256 \
    -days $days -set_serial "0x$(openssl rand -hex 8)" \
    -extfile <(printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3") \
    -outform DER -out "$1.der"
  rm -f "$1.csr" "$1.key.pem"
}
ca pinned-ca "/CN=osscse test CA"
ca other-ca "/CN=osscse other CA"
leaf server pinned-ca telemetry.oss-tls.test
leaf server-other-ca other-ca telemetry.oss-tls.test
leaf server-wrong-name pinned-ca wrong-name.test
rm -f pinned-ca.key.pem other-ca.key.pem

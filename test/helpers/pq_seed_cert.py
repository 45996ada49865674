#!/usr/bin/env python3
"""The ML-KEM seed extension of age-plugin-yubikey's mlkem768p256tag keys (OID 1.3.6.1.4.1.64829.1.1,
critical, extnValue = DER OCTET STRING of the 64-byte seed), handled with pyca/cryptography only:

  pq_seed_cert.py build PUBKEY_HEX SEED_HEX [RAW_VALUE_HEX]
        -> DER certificate (hex) with [seed ext, policy ext]; RAW_VALUE_HEX replaces the
           extension value (malformed cases)
  pq_seed_cert.py reference PUBKEY.pem SEED_HEX NAME OUT.pem
        -> a PEM certificate shaped like age-plugin-yubikey's tagpq builder writes it
           (O=age-plugin-yubikey, OU=0.5.0, CN=NAME; seed extension, then policy [once, always])
  pq_seed_cert.py read CERT_HEX
        -> one line per extension: OID CRITICAL VALUE_HEX
"""
import datetime
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SEED_OID = x509.ObjectIdentifier("1.3.6.1.4.1.64829.1.1")
POLICY_OID = x509.ObjectIdentifier("1.3.6.1.4.1.41482.3.8")


def build(pub, value, name, policy):
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime(2026, 1, 1))
        .not_valid_after(datetime.datetime(9999, 12, 31, 23, 59, 59))
        .add_extension(x509.UnrecognizedExtension(SEED_OID, value), critical=True)
        .add_extension(x509.UnrecognizedExtension(POLICY_OID, bytes(policy)), critical=False)
        .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    )


def seed_value(seed_hex):
    seed = bytes.fromhex(seed_hex)
    assert len(seed) == 64
    # DER OCTET STRING: tag 04, length 64 (0x40), the seed.
    return b"\x04\x40" + seed


if sys.argv[1] == "build":
    pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes.fromhex(sys.argv[2]))
    value = bytes.fromhex(sys.argv[4]) if len(sys.argv) > 4 else seed_value(sys.argv[3])
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "age identity")])
    print(build(pub, value, name, [2, 2]).public_bytes(serialization.Encoding.DER).hex())
elif sys.argv[1] == "reference":
    pub = serialization.load_pem_public_key(open(sys.argv[2], "rb").read())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "age-plugin-yubikey"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "0.5.0"),
        x509.NameAttribute(NameOID.COMMON_NAME, sys.argv[4]),
    ])
    cert = build(pub, seed_value(sys.argv[3]), name, [2, 3])
    open(sys.argv[5], "wb").write(cert.public_bytes(serialization.Encoding.PEM))
else:
    cert = x509.load_der_x509_certificate(bytes.fromhex(sys.argv[2]))
    for ext in cert.extensions:
        print(ext.oid.dotted_string, "critical" if ext.critical else "regular", ext.value.value.hex())

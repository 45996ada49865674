#!/usr/bin/env python3
"""The ML-KEM seed extension of age-plugin-yubikey's mlkem768p256tag keys (OID 1.3.6.1.4.1.64829.1.1,
critical, extnValue = DER OCTET STRING of the 64-byte seed), handled with pyca/cryptography only:

  pq_seed_cert.py build PUBKEY_HEX SEED_HEX [RAW_VALUE_HEX]
                                              -> DER certificate (hex) with [seed ext, policy ext];
                                                 RAW_VALUE_HEX replaces the extension value (malformed cases)
  pq_seed_cert.py read CERT_HEX               -> one line per extension: OID CRITICAL VALUE_HEX
"""
import datetime
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SEED_OID = x509.ObjectIdentifier("1.3.6.1.4.1.64829.1.1")
POLICY_OID = x509.ObjectIdentifier("1.3.6.1.4.1.41482.3.8")

if sys.argv[1] == "build":
    pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes.fromhex(sys.argv[2]))
    seed = bytes.fromhex(sys.argv[3])
    assert len(seed) == 64
    value = bytes.fromhex(sys.argv[4]) if len(sys.argv) > 4 else b"\x04\x40" + seed
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "age identity")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime(2026, 1, 1))
        .not_valid_after(datetime.datetime(9999, 12, 31, 23, 59, 59))
        # DER OCTET STRING: tag 04, length 64 (0x40), the seed.
        .add_extension(x509.UnrecognizedExtension(SEED_OID, value), critical=True)
        .add_extension(x509.UnrecognizedExtension(POLICY_OID, bytes([2, 2])), critical=False)
        .sign(ec.generate_private_key(ec.SECP256R1()), hashes.SHA256())
    )
    print(cert.public_bytes(serialization.Encoding.DER).hex())
else:
    cert = x509.load_der_x509_certificate(bytes.fromhex(sys.argv[2]))
    for ext in cert.extensions:
        print(ext.oid.dotted_string, "critical" if ext.critical else "regular", ext.value.value.hex())

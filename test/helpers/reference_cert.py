#!/usr/bin/env python3
"""Writes a certificate shaped like the ones age-plugin-yubikey makes (O=age-plugin-yubikey,
OU=<version>, CN=<name>, Yubico policy extension 1.3.6.1.4.1.41482.3.8 = [pin, touch]) for a given
public key, with pyca/cryptography: an independent builder for the "the reference's slots are ours"
test.

  reference_cert.py PUBKEY.pem NAME PIN_POLICY_BYTE TOUCH_POLICY_BYTE OUT.pem
"""
import datetime
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

pub = serialization.load_pem_public_key(open(sys.argv[1], "rb").read())
name = x509.Name([
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "age-plugin-yubikey"),
    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "0.5.0"),
    x509.NameAttribute(NameOID.COMMON_NAME, sys.argv[2]),
])
signer = ec.generate_private_key(ec.SECP256R1())
cert = (
    x509.CertificateBuilder()
    .subject_name(name)
    .issuer_name(name)
    .public_key(pub)
    .serial_number(x509.random_serial_number())
    .not_valid_before(datetime.datetime(2023, 1, 28, 8, 22, 29))
    .not_valid_after(datetime.datetime(9999, 12, 31, 23, 59, 59))
    .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.41482.3.8"), bytes([int(sys.argv[3]), int(sys.argv[4])])), critical=False)
    .sign(signer, hashes.SHA256())
)
open(sys.argv[5], "wb").write(cert.public_bytes(serialization.Encoding.PEM))

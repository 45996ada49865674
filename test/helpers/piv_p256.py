#!/usr/bin/env python3
"""An independent implementation of the piv-p256 stanza (age-plugin-yubikey's published
algorithm) with pyca/cryptography, used to cross-check keybridge.

  piv_p256.py wrap PK_HEX FILEKEY_HEX         -> prints "tag_b64 epk_b64 body_b64"
  piv_p256.py unwrap SK_HEX TAG EPK BODY      -> prints the file key in hex
"""
import base64
import hashlib
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def b64(b):
    return base64.b64encode(b).decode().rstrip("=")


def unb64(s):
    return base64.b64decode(s + "=" * (-len(s) % 4))


def compressed(pub):
    return pub.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)


def key(shared, epk, pk):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=epk + pk, info=b"piv-p256").derive(shared)


def wrap(pk_hex, file_key_hex):
    pk = bytes.fromhex(pk_hex)
    recipient = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pk)
    esk = ec.generate_private_key(ec.SECP256R1())
    epk = compressed(esk.public_key())
    shared = esk.exchange(ec.ECDH(), recipient)
    body = ChaCha20Poly1305(key(shared, epk, pk)).encrypt(b"\0" * 12, bytes.fromhex(file_key_hex), b"")
    tag = hashlib.sha256(pk).digest()[:4]
    print(b64(tag), b64(epk), b64(body))


def unwrap(sk_hex, tag, epk_b64, body_b64):
    sk = ec.derive_private_key(int(sk_hex, 16), ec.SECP256R1())
    pk = compressed(sk.public_key())
    if unb64(tag) != hashlib.sha256(pk).digest()[:4]:
        sys.exit("tag mismatch")
    epk = unb64(epk_b64)
    peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), epk)
    shared = sk.exchange(ec.ECDH(), peer)
    print(ChaCha20Poly1305(key(shared, epk, pk)).decrypt(b"\0" * 12, unb64(body_b64), b"").hex())


if __name__ == "__main__":
    cmd, *args = sys.argv[1:]
    {"wrap": wrap, "unwrap": unwrap}[cmd](*args)

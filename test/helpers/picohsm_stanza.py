#!/usr/bin/python3
"""An independent implementation of the picohsm stanza of pinpox/age-plugin-picohsm, from its
published algorithm, with Python `cryptography` (used by keybridge's cross-implementation tests).

  wrap <recipient pub hex (65 B)> <file key hex>        -> "<b64 eph> <b64 fingerprint> <b64 body>"
  unwrap <recipient scalar hex> <b64 eph> <b64 fp|-> <b64 body>  -> file key hex, or exit 1
"""
import base64, hashlib, sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

INFO = b"age-encryption.org/v1/picohsm-p256"

def b64(b): return base64.b64encode(b).decode().rstrip("=")
def unb64(s): return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)

def key(shared, eph, rcpt):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=eph + rcpt, info=INFO).derive(shared)

def wrap(rcpt_hex, fk_hex):
    rcpt = bytes.fromhex(rcpt_hex)
    pub = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), rcpt)
    esk = ec.generate_private_key(ec.SECP256R1())
    eph = esk.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    shared = esk.exchange(ec.ECDH(), pub)
    body = ChaCha20Poly1305(key(shared, eph, rcpt)).encrypt(b"\0" * 12, bytes.fromhex(fk_hex), None)
    print(b64(eph), b64(hashlib.sha256(rcpt).digest()[:8]), b64(body))

def unwrap(scalar_hex, eph_b64, fp_b64, body_b64):
    sk = ec.derive_private_key(int(scalar_hex, 16), ec.SECP256R1())
    rcpt = sk.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    if fp_b64 != "-" and unb64(fp_b64) != hashlib.sha256(rcpt).digest()[:8]:
        sys.exit(1)
    eph = unb64(eph_b64)
    shared = sk.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), eph))
    print(ChaCha20Poly1305(key(shared, eph, rcpt)).decrypt(b"\0" * 12, unb64(body_b64), None).hex())

if __name__ == "__main__":
    {"wrap": wrap, "unwrap": unwrap}[sys.argv[1]](*sys.argv[2:])

"""python-fido2 (Debian's 0.9.1) against a CTAPHID endpoint with the Pico FIDO emulator's TCP
framing (2-byte big-endian length + one 64-byte report each way).

Usage: /usr/bin/python3 fido2_tcp.py HOST:PORT PIN
Runs getInfo, setPIN (when none is set), makeCredential with hmac-secret, and getAssertion with
one and two salts, with and without the PIN, under PIN/UV auth protocols 1 and 2; verifies the
attestation and every assertion signature; prints one JSON object with what it saw.
"""
import json
import os
import socket
import struct
import sys

from fido2.hid import CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor
from fido2.ctap2 import Ctap2
from fido2.ctap2.pin import ClientPin, PinProtocolV1, PinProtocolV2
from fido2.ctap2.extensions import HmacSecretExtension
from fido2.ctap import CtapError
from fido2.attestation import Attestation
from fido2.utils import sha256


class TcpCtapHidConnection(CtapHidConnection):
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise OSError("connection closed")
            buf += chunk
        return buf

    def write_packet(self, data):
        assert len(data) == 64
        self.sock.sendall(struct.pack(">H", 64) + data)

    def read_packet(self):
        (n,) = struct.unpack(">H", self._recv(2))
        return self._recv(n).ljust(64, b"\0")

    def close(self):
        self.sock.close()


def open_device(spec):
    host, port = spec.rsplit(":", 1)
    descriptor = HidDescriptor("tcp:" + spec, 0, 0, 64, 64)
    return CtapHidDevice(descriptor, TcpCtapHidConnection(host, int(port)))


RP = {"id": "age-encryption.org", "name": "age"}
USER = {"id": b"\x01\x02\x03", "name": "python-fido2"}


def wrong_pins(spec, pin, count, then_right=True):
    """Tries a wrong PIN `count` times (then the right one unless told not to); prints the CTAP
    error of each and the retries left."""
    dev = open_device(spec)
    ctap = Ctap2(dev)
    seen = []
    for _ in range(count):
        try:
            ClientPin(ctap, PinProtocolV1()).get_pin_token(pin + "0", ClientPin.PERMISSION.GET_ASSERTION, RP["id"])
            seen.append("accepted")
        except CtapError as e:
            seen.append(e.code.name)
    right = None
    try:
        if then_right:
            ClientPin(ctap, PinProtocolV2()).get_pin_token(pin, ClientPin.PERMISSION.GET_ASSERTION, RP["id"])
            right = "accepted"
    except CtapError as e:
        right = e.code.name
    retries = ClientPin(ctap, PinProtocolV1()).get_pin_retries()[0]
    dev.close()
    print(json.dumps({"wrong": seen, "right_pin_then": right, "retries": retries}))


def main():
    spec, pin = sys.argv[1], sys.argv[2]
    if len(sys.argv) > 3:
        return wrong_pins(spec, pin, int(sys.argv[3]), len(sys.argv) < 5)
    dev = open_device(spec)
    out = {"ping": dev.ping(b"hello keybridge").decode()}
    ctap = Ctap2(dev)
    info = ctap.get_info()
    out["info"] = {
        "versions": info.versions,
        "extensions": info.extensions,
        "options": info.options,
        "pin_uv_protocols": info.pin_uv_protocols,
        "aaguid": bytes(info.aaguid).hex(),
    }
    if not info.options.get("clientPin"):
        ClientPin(ctap, PinProtocolV2()).set_pin(pin)
        out["pin_set"] = True
        info = ctap.get_info()
    out["clientPin_after"] = info.options.get("clientPin")
    out["retries"] = ClientPin(ctap, PinProtocolV1()).get_pin_retries()[0]

    # A wrong PIN costs one try and is refused.
    try:
        ClientPin(ctap, PinProtocolV2()).get_pin_token(pin + "9", ClientPin.PERMISSION.GET_ASSERTION, RP["id"])
        out["wrong_pin"] = "accepted"
    except CtapError as e:
        out["wrong_pin"] = e.code.name
    out["retries_after_wrong"] = ClientPin(ctap, PinProtocolV1()).get_pin_retries()[0]

    # makeCredential with hmac-secret, PIN token with protocol 2.
    cp2 = ClientPin(ctap, PinProtocolV2())
    token = cp2.get_pin_token(pin, ClientPin.PERMISSION.MAKE_CREDENTIAL, RP["id"])
    out["retries_after_ok"] = cp2.get_pin_retries()[0]
    cdh = sha256(b"make")
    att = ctap.make_credential(
        cdh, RP, USER, [{"type": "public-key", "alg": -7}],
        extensions={"hmac-secret": True}, options={"rk": False},
        pin_uv_param=cp2.protocol.authenticate(token, cdh), pin_uv_protocol=2,
    )
    res = Attestation.for_type(att.fmt)().verify(att.att_statement, att.auth_data, cdh)
    cred = att.auth_data.credential_data
    out["make"] = {
        "fmt": att.fmt,
        "flags": att.auth_data.flags,
        "hmac_ext": att.auth_data.extensions.get("hmac-secret"),
        "cred_id": bytes(cred.credential_id).hex(),
        "attestation_type": res.attestation_type.name,
    }

    salt1 = bytes(range(32))
    salt2 = bytes(range(32, 64))
    results = {}
    for proto_cls in (PinProtocolV1, PinProtocolV2):
        proto = proto_cls()
        for with_pin in (False, True):
            for two in (False, True):
                ext = HmacSecretExtension(ctap, proto)
                inputs = {"salt1": salt1}
                if two:
                    inputs["salt2"] = salt2
                ext_in = ext.process_get_input({"hmacGetSecret": inputs})
                cdh = os.urandom(32)
                kwargs = {}
                if with_pin:
                    cp = ClientPin(ctap, proto)
                    t = cp.get_pin_token(pin, ClientPin.PERMISSION.GET_ASSERTION, RP["id"])
                    kwargs = {"pin_uv_param": proto.authenticate(t, cdh), "pin_uv_protocol": proto.VERSION}
                a = ctap.get_assertion(
                    RP["id"], cdh, [{"type": "public-key", "id": cred.credential_id}],
                    extensions={"hmac-secret": ext_in}, **kwargs,
                )
                a.verify(cdh, cred.public_key)
                o = ext.process_get_output(a.auth_data)["hmacGetSecret"]
                key = "p%d_%s_%s" % (proto.VERSION, "pin" if with_pin else "nopin", "two" if two else "one")
                results[key] = {
                    "output1": o["output1"].hex(),
                    "output2": o.get("output2", b"").hex(),
                    "flags": a.auth_data.flags,
                    "signature_verified": True,
                }
    out["assertions"] = results

    # EdDSA (COSE -8) and RS256 (-257) credentials: attestation and assertion signatures checked
    # by python-fido2's own COSE classes; the ES256-first preference list picks the first supported.
    algs = {}
    for alg in (-8, -257):
        token = cp2.get_pin_token(pin, ClientPin.PERMISSION.MAKE_CREDENTIAL, RP["id"])
        mcdh = os.urandom(32)
        att = ctap.make_credential(
            mcdh, RP, USER, [{"type": "public-key", "alg": alg}],
            extensions={"hmac-secret": True}, options={"rk": False},
            pin_uv_param=cp2.protocol.authenticate(token, mcdh), pin_uv_protocol=2,
        )
        res = Attestation.for_type(att.fmt)().verify(att.att_statement, att.auth_data, mcdh)
        c = att.auth_data.credential_data
        ext = HmacSecretExtension(ctap, PinProtocolV2())
        ext_in = ext.process_get_input({"hmacGetSecret": {"salt1": salt1}})
        acdh = os.urandom(32)
        a = ctap.get_assertion(RP["id"], acdh, [{"type": "public-key", "id": c.credential_id}], extensions={"hmac-secret": ext_in})
        a.verify(acdh, c.public_key)
        tampered = "accepted"
        try:
            a.verify(os.urandom(32), c.public_key)
        except Exception:
            tampered = "rejected"
        algs[str(alg)] = {
            "key_alg": c.public_key[3],
            "key_type": type(c.public_key).__name__,
            "att_alg": att.att_statement["alg"],
            "attestation_type": res.attestation_type.name,
            "hmac_len": len(ext.process_get_output(a.auth_data)["hmacGetSecret"]["output1"]),
            "other_cdh": tampered,
        }
    token = cp2.get_pin_token(pin, ClientPin.PERMISSION.MAKE_CREDENTIAL, RP["id"])
    mcdh = os.urandom(32)
    pref = ctap.make_credential(
        mcdh, RP, USER, [{"type": "public-key", "alg": -999}, {"type": "public-key", "alg": -257}, {"type": "public-key", "alg": -7}],
        options={"rk": False}, pin_uv_param=cp2.protocol.authenticate(token, mcdh), pin_uv_protocol=2,
    )
    algs["preference"] = pref.auth_data.credential_data.public_key[3]
    out["algorithms"] = algs
    out["info_algorithms"] = [a["alg"] for a in info.algorithms] if info.algorithms else None

    # The silent probe: up=false, no extension, finds the credential without a touch.
    cdh = os.urandom(32)
    a = ctap.get_assertion(RP["id"], cdh, [{"type": "public-key", "id": cred.credential_id}], options={"up": False})
    a.verify(cdh, cred.public_key)
    out["probe_flags"] = a.auth_data.flags
    try:
        bad = bytearray(cred.credential_id)
        bad[-1] ^= 1
        ctap.get_assertion(RP["id"], cdh, [{"type": "public-key", "id": bytes(bad)}], options={"up": False})
        out["foreign_probe"] = "accepted"
    except CtapError as e:
        out["foreign_probe"] = e.code.name
    dev.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()

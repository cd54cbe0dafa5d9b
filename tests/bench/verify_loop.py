"""One contender of bench_gateway_verify_instructions, looped N times (run under valgrind)."""

import base64
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_sign_open

from adapters.crypto.eddsa import EdDSAVerifier
from entrypoints.edge_gateway.admission import honoured_channels
from tests.support.gateway import ISSUER, claims, new_key, sign

key = new_key()
public = Ed25519PublicKey.from_public_bytes(key.public_key)
token = sign(key, claims())
h, p, s = token.split(".")
v = EdDSAVerifier({key.kid: public}.get, ISSUER, "realtime", "JWT", leeway=5, max_lifetime=60)
sig = base64.urlsafe_b64decode(s + "==")
si = f"{h}.{p}".encode()
mode, n = sys.argv[1], int(sys.argv[2])  # raw | raw-cryptography | gateway, iterations
honoured_channels(v.verify(token))
public.verify(sig, si)
crypto_sign_open(sig + si, key.public_key)
if mode == "raw":
    for _ in range(n):
        crypto_sign_open(sig + si, key.public_key)
elif mode == "raw-cryptography":
    for _ in range(n):
        public.verify(sig, si)
else:
    for _ in range(n):
        honoured_channels(v.verify(token))

"""Gateway token verification vs a raw Ed25519 verify by libsodium, the check it makes
(goal <= 1.15x), and vs a raw verify by `cryptography` (what it used before) and
`jwt.decode`.

    uv run python -m tests.bench.bench_gateway_verify
"""

import statistics
import time
from collections.abc import Callable

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.bindings import crypto_sign_open

from adapters.crypto.eddsa import EdDSAVerifier
from entrypoints.edge_gateway.admission import honoured_channels
from tests.support.gateway import ISSUER, claims, new_key, sign

ROUNDS, PER_ROUND = 25, 300


def per_call_us(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    for _ in range(PER_ROUND):
        work()
    return (time.perf_counter() - started) / PER_ROUND * 1e6


def interleaved(*works: Callable[[], object]) -> list[list[float]]:
    """Per-round timings, the contenders back to back in each round, so that the load other
    processes put on this shared machine hits them alike; ratios are taken per round."""
    rounds = []
    for _ in range(ROUNDS):
        rounds.append([per_call_us(work) for work in works])
    return rounds


def main() -> None:
    key = new_key()
    public = Ed25519PublicKey.from_public_bytes(key.public_key)
    token = sign(key, claims())
    head, payload, signature = token.split(".")
    import base64

    raw_signature = base64.urlsafe_b64decode(signature + "==")
    signing_input = f"{head}.{payload}".encode()
    keys = {key.kid: public}
    verifier = EdDSAVerifier(keys.get, ISSUER, "realtime", "JWT", leeway=5, max_lifetime=60)

    def gateway() -> None:
        honoured_channels(verifier.verify(token))

    raw_public = key.public_key

    def raw() -> None:
        crypto_sign_open(raw_signature + signing_input, raw_public)

    def raw_cryptography() -> None:
        public.verify(raw_signature, signing_input)

    def pyjwt() -> None:
        jwt.decode(token, public, algorithms=["EdDSA"], audience="realtime", issuer=ISSUER,
                   options={"require": ["exp", "iat", "iss", "aud", "sub"]})

    works = {"raw Ed25519 verify, libsodium": raw, "gateway verification": gateway,
             "raw Ed25519 verify, cryptography": raw_cryptography, "jwt.decode (PyJWT)": pyjwt}
    for work in works.values():
        work()
    rounds = interleaved(*works.values())
    for i, label in enumerate(works):
        us = statistics.median(r[i] for r in rounds)
        ratio = statistics.median(r[i] / r[0] for r in rounds)
        print(f"{label:34} {us:7.1f} us  {ratio:.2f}x raw libsodium (median of {ROUNDS} rounds)")


if __name__ == "__main__":
    main()

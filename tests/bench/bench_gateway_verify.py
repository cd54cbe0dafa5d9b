"""Gateway token verification vs a raw Ed25519 verify (goal <= 1.15x) and `jwt.decode`.

    uv run python -m tests.bench.bench_gateway_verify
"""

import statistics
import time
from collections.abc import Callable

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

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

    def raw() -> None:
        public.verify(raw_signature, signing_input)

    def pyjwt() -> None:
        jwt.decode(token, public, algorithms=["EdDSA"], audience="realtime", issuer=ISSUER,
                   options={"require": ["exp", "iat", "iss", "aud", "sub"]})

    for work in (raw, gateway, pyjwt):
        work()
    rounds = interleaved(raw, gateway, pyjwt)
    raw_us, gateway_us, pyjwt_us = (statistics.median(r[i] for r in rounds) for i in range(3))
    gateway_ratio = statistics.median(r[1] / r[0] for r in rounds)
    pyjwt_ratio = statistics.median(r[2] / r[0] for r in rounds)
    print(f"raw Ed25519 verify      {raw_us:7.1f} us (median of {ROUNDS} rounds)")
    print(f"gateway verification    {gateway_us:7.1f} us  {gateway_ratio:.2f}x raw")
    print(f"jwt.decode (PyJWT)      {pyjwt_us:7.1f} us  {pyjwt_ratio:.2f}x raw")


if __name__ == "__main__":
    main()

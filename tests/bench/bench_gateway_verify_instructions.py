"""Gateway token verification vs a raw Ed25519 verify by libsodium (the check it makes) and
by `cryptography` (the one it made before), in CPU instructions (valgrind callgrind):
unlike wall time, the count does not move with the load of a shared machine.

    uv run python -m tests.bench.bench_gateway_verify_instructions     # ~3 min
"""

import re
import shutil
import subprocess
import sys
from pathlib import Path

LOOP = Path(__file__).with_name("verify_loop.py")
N = 300


def instructions(mode: str, n: int) -> int:
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
         str(LOOP), mode, str(n)], capture_output=True, text=True, check=True,
        cwd=LOOP.parents[2]).stderr
    return int(re.search(r"Collected : (\d+)", out).group(1))  # type: ignore[union-attr]


def main() -> None:
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is needed: apt-get install valgrind")
    base = instructions("raw", 0)
    raw = (instructions("raw", N) - base) / N
    before = (instructions("raw-cryptography", N) - base) / N
    gateway = (instructions("gateway", N) - base) / N
    print(f"raw Ed25519 verify, libsodium     {raw:,.0f} instructions per token")
    print(f"raw Ed25519 verify, cryptography  {before:,.0f} instructions per token  "
          f"{before / raw:.3f}x")
    print(f"gateway verification              {gateway:,.0f} instructions per token  "
          f"{gateway / raw:.3f}x")


if __name__ == "__main__":
    main()

"""Handshakes with token verification vs with verification replaced by a no-op, counted in
CPU instructions of the gateway process (valgrind callgrind), which the load of a shared
machine cannot move, unlike handshakes per second.

Both `tests.bench.gateway_server` processes (the one verifying, the one with
`--no-verify`) run under callgrind; after a warm-up their counters are zeroed, the same N
bare RFC 6455 handshakes (open, then close at once) go to each, and the counters are dumped:
instructions per handshake, and the rate ratio they imply (no-verify / verified).

    uv run python -m tests.bench.bench_gateway_handshake_instructions [--handshakes 200]
"""

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.bench.bench_gateway_sockets import (
    ROOT,
    bench_tokens,
    free_port,
    gateway_env,
    origin,
    raw_handshake,
    wait_port,
)

OUT = ROOT / ".atelier" / "bench-gateway"


@contextlib.contextmanager
def under_callgrind(args: list[str], env: dict[str, str], out: Path) -> Iterator[int]:
    child = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, *args],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        yield child.pid
    finally:
        child.terminate()
        try:
            child.wait(120)
        except subprocess.TimeoutExpired:
            child.kill()


def control(*args: str) -> None:
    subprocess.run(["callgrind_control", *args], check=True, capture_output=True, timeout=300)


def dumped_instructions(out: Path, pid: int, before: set[Path]) -> int:
    for _ in range(600):
        fresh = [p for p in out.parent.glob(f"{out.name}*") if p not in before]
        for path in fresh:
            text = path.read_text(errors="replace")
            match = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
            if match:
                return int(match.group(1))
        time.sleep(0.5)
    raise RuntimeError(f"no callgrind dump from {pid}")


async def run(total: int) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    async with origin() as (jwks_url, key):
        env = gateway_env(jwks_url, "atelier:bench:hsi:")
        env["ATELIER_REDIS_URL"] = ""
        env["ATELIER_GATEWAY_MAX_SOCKETS_PER_IP"] = "1000000"
        counts: dict[str, float] = {}
        for label, extra in (("verified", []), ("no verification", ["--no-verify"])):
            port = free_port()
            out = OUT / f"callgrind.{label.replace(' ', '-')}.{os.getpid()}"
            with under_callgrind(["-m", "tests.bench.gateway_server", "--port", str(port),
                                  *extra], env, out) as pid:
                await wait_port_slow(port)
                tokens = bench_tokens(key, "c", total + 20)  # signed once it is up
                for token in tokens[:20]:  # warm-up: imports, caches, first key set
                    await raw_handshake(port, token)
                await asyncio.sleep(1.0)
                await asyncio.to_thread(control, "-z", str(pid))
                for token in tokens[20:]:
                    await raw_handshake(port, token)
                await asyncio.sleep(2.0)  # the server sees every close
                before = set(OUT.glob(f"{out.name}*"))
                await asyncio.to_thread(control, "-d", str(pid))
                counts[label] = dumped_instructions(out, pid, before) / total
            for path in OUT.glob(f"{out.name}*"):
                path.unlink()
            print(f"{label:16s} {counts[label]:>14,.0f} instructions per handshake", flush=True)
        ratio = counts["no verification"] / counts["verified"]
        print(f"verification adds {counts['verified'] - counts['no verification']:,.0f} "
              f"instructions per handshake; rate ratio verified / no-verify = {ratio:.3f}x")


async def wait_port_slow(port: int) -> None:
    for _ in range(10):  # a Python start under valgrind takes minutes
        with contextlib.suppress(RuntimeError):
            await wait_port(port, "/readyz")
            return
    raise RuntimeError(f"nothing listening on {port}")


def main() -> None:
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is needed: apt-get install valgrind")
    parser = argparse.ArgumentParser()
    parser.add_argument("--handshakes", type=int, default=200)
    asyncio.run(run(parser.parse_args().handshakes))


if __name__ == "__main__":
    main()

"""The mobile API as production runs it (uvicorn, uvloop, httptools, one worker, the heap
settled as `atelier serve` settles it; BENCH_SETTLE_HEAP=0 leaves the collector as Python
sets it), plus a bare litestar route on the same server, for tests/bench/bench_identity.py."""

import os
import sys

import uvicorn
from litestar import get

from entrypoints.cli.commands import settle_heap
from entrypoints.mobile_api.app import create_app
from entrypoints.mobile_api.container import MobileContainer
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.settings import Settings
from entrypoints.wiring.tracing import install_tracing


@get("/bench/bare", sync_to_thread=False)
def bare() -> dict[str, str]:
    return {"status": "ok"}


def main() -> None:
    settings = Settings()
    install_tracing(settings, "atelier-mobile-api")  # ATELIER_TRACING_ENABLED=false: off
    app = create_app(MobileContainer(infrastructure=Infrastructure(settings=settings)))
    app.register(bare)
    if os.environ.get("BENCH_SETTLE_HEAP", "1") != "0":
        settle_heap()
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None,
                http="httptools", loop="uvloop", proxy_headers=False, access_log=False)


if __name__ == "__main__":
    os.environ.setdefault("ATELIER_LOG_LEVEL", "WARNING")
    main()

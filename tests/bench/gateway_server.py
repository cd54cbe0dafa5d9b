"""The gateway app under uvicorn exactly as `atelier serve gateway` runs it, optionally with
token verification replaced by a no-op, for the handshake-rate bench."""

import argparse
import secrets

from dependency_injector import providers

from entrypoints.cli.commands import _gateway_options, _uvicorn
from entrypoints.edge_gateway.admission import Admitted
from entrypoints.edge_gateway.app import create_app
from entrypoints.edge_gateway.container import GatewayContainer
from entrypoints.wiring.infrastructure import Infrastructure
from entrypoints.wiring.settings import Settings


class NoVerification:
    """Admits every token without looking at it, granting what a verified token grants (its
    user's channel and `broadcast`), so that only the verification differs."""

    async def admit(self, token: str) -> Admitted:
        subject = f"bench-{secrets.token_hex(8)}"
        return Admitted("none", ("broadcast", f"user:{subject}"), subject, None,
                        secrets.token_hex(8))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--no-verify", action="store_true")
    args = parser.parse_args()
    settings = Settings()
    container = GatewayContainer(infrastructure=Infrastructure(settings=settings))
    if args.no_verify:
        container.admission.override(providers.Object(NoVerification()))
    _uvicorn(create_app(container), "127.0.0.1", args.port, **_gateway_options(settings))

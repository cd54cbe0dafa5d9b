"""The mobile API as a Litestar app: `/v1/api/...`, `/.well-known/jwks.json`, health."""

from collections.abc import Sequence

from litestar import Litestar, Router
from litestar.types import ControllerRouterHandler

from entrypoints.http_edge.api import api_docs, create_api
from entrypoints.http_edge.rate_limit import RateLimitHook
from entrypoints.mobile_api.container import MobileContainer
from entrypoints.mobile_api.examples import EXAMPLES
from entrypoints.mobile_api.routes.account import AccountController, PasswordResetController
from entrypoints.mobile_api.routes.deletion import AccountDeletionController
from entrypoints.mobile_api.routes.deletion_page import DeletionPageController
from entrypoints.mobile_api.routes.exports import ExportsController
from entrypoints.mobile_api.routes.identity import (
    AccountsController,
    MeController,
    SessionsController,
)
from entrypoints.mobile_api.routes.images import ImagesController, signed_file
from entrypoints.mobile_api.routes.realtime import realtime_token
from entrypoints.mobile_api.routes.social import IdentitiesController, ProviderSessionsController
from entrypoints.mobile_api.routes.system import healthz, jwks, readyz
from entrypoints.mobile_api.routes.transfers import TransferCodesController
from entrypoints.wiring.di import ResolvedProviders

API_PREFIX = "/v1/api"
MAX_BODY_BYTES = 1 << 20


def routes(resolved: ResolvedProviders) -> Sequence[ControllerRouterHandler]:
    api = Router(
        API_PREFIX,
        route_handlers=[AccountsController, SessionsController, MeController,
                        PasswordResetController, AccountController,
                        TransferCodesController, realtime_token, ImagesController, signed_file,
                        AccountDeletionController, DeletionPageController,
                        ProviderSessionsController, IdentitiesController,
                        ExportsController],
        before_request=RateLimitHook(resolved.getter("rate_limits")),
    )
    return [api, jwks, healthz, readyz]


DESCRIPTION = """The API the phone app talks to: guest and member accounts, sessions
(access tokens of an hour, refresh tokens that rotate on every use), image generation and
downloads, device transfer, account deletion and data export.

Every error answers `{"error": {"code", "message"}}`; each operation lists the codes its
error responses may carry. Send `Authorization: Bearer <access token>` where an operation
asks for it.

**Realtime.** Images are announced on a WebSocket, not here: ask
`POST /v1/api/realtime/token` for a connection token, then open `/v1/realtime?token=...`
(the `url` in the answer). The socket's messages and close codes are documented apart
(docs/realtime.md, docs/asyncapi.yaml)."""


def create_app(container: MobileContainer, *, shares_infrastructure: bool = False) -> Litestar:
    return create_api(
        container, routes, api_docs("Atelier mobile API", API_PREFIX, description=DESCRIPTION),
        # image.requested -> the job queue; sessions ended and keys revoked elsewhere;
        # a deleted account's objects and login
        background=("outbox_relay", "revocations", "cleanup_relay"),
        shares_infrastructure=shares_infrastructure, request_max_body_size=MAX_BODY_BYTES,
        entrypoint="mobile_api", examples=EXAMPLES)

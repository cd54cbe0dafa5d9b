from typing import Any

from litestar import Request
from litestar.di import Provide

from entrypoints.http_edge.client_ip import client_ip
from entrypoints.wiring.di import Injected
from entrypoints.wiring.settings import Settings


def provide_source_ip(request: Request[Any, Any, Any], settings: Injected[Settings]) -> str:
    """The address the request came from, past the trusted proxies (`source_ip`)."""
    return client_ip(request, settings.trusted_proxy_hops)


SOURCE_IP = Provide(provide_source_ip, sync_to_thread=False)

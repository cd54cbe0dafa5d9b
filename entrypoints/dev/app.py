"""The embedded default: every entrypoint on one port, routed by path as the ALB routes."""

from litestar import Litestar

from entrypoints.common.settings import Settings
from entrypoints.mobile_api.app import create_app
from entrypoints.mobile_api.container import MobileContainer


def create_dev_app(settings: Settings) -> Litestar:
    return create_app(MobileContainer(settings=settings))

from litestar import post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED

from application.admin.broadcast import Broadcast, InvalidChannel
from entrypoints.admin_api.auth import Admin
from entrypoints.admin_api.openapi import ADMIN, BODY, errors
from entrypoints.admin_api.schemas import BroadcastRequest, BroadcastView
from entrypoints.wiring.di import Injected


@post("/broadcasts", status_code=HTTP_202_ACCEPTED,
      responses=errors(ADMIN, BODY, InvalidChannel), tags=["realtime"],
      request_max_body_size=16 * 1024,
      summary="Publish a message on `broadcast` or `user:{id}`; every gateway delivers it")
async def broadcast(
    data: JSONBody[BroadcastRequest], publish_broadcast: Injected[Broadcast], admin: Admin
) -> BroadcastView:
    """Publishes `{channel, data}` on the realtime bus: `broadcast` reaches every connected phone,
    `user:{id}` one user's. Delivery is at most once; phones that are not connected miss it."""
    await publish_broadcast(admin, data.channel, data.data)
    return BroadcastView(data.channel, True)

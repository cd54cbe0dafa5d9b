from litestar import post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_202_ACCEPTED

from entrypoints.admin_api.auth import Admin, Services
from entrypoints.admin_api.openapi import errors
from entrypoints.admin_api.schemas import BroadcastRequest, BroadcastView


@post("/broadcasts", status_code=HTTP_202_ACCEPTED, responses=errors(401), tags=["realtime"],
      request_max_body_size=16 * 1024,
      summary="Publish a message on `broadcast` or `user:{id}`; every gateway delivers it")
async def broadcast(
    data: JSONBody[BroadcastRequest], services: Services, admin: Admin
) -> BroadcastView:
    await services.broadcast(admin, data.channel, data.data)
    return BroadcastView(data.channel, True)

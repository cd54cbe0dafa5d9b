from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK

from entrypoints.admin_api.auth import Admin, Services
from entrypoints.admin_api.openapi import errors
from entrypoints.admin_api.schemas import KeyMovesView, KeysView, KeyView


class KeysController(Controller):
    path = "/keys"
    tags = ["keys"]

    @get("/", responses=errors(401), summary="Signing keys with their states (public halves)")
    async def list_keys(self, services: Services, admin: Admin) -> KeysView:
        return KeysView([KeyView.of(k) for k in await services.list_keys()])

    @post("/rotate", status_code=HTTP_200_OK, responses=errors(401),
          summary="Advance the key states as far as the timing allows")
    async def rotate(self, services: Services, admin: Admin) -> KeyMovesView:
        return KeyMovesView(await services.rotate_keys(admin))

    @post("/{kid:str}/revoke", status_code=HTTP_200_OK, responses=errors(401, 404, 409),
          summary="Emergency: the key stops signing and verifying at once")
    async def revoke(self, kid: FromPath[str], services: Services, admin: Admin) -> KeyMovesView:
        return KeyMovesView(await services.revoke_key(admin, kid))

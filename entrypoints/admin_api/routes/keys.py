from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK

from application.admin.keys import RevokeSigningKey, RotateKeysNow
from application.keys.manage_keys import ListKeys
from domain.keys.model import InvalidKeyTransition, UnknownKey
from entrypoints.admin_api.auth import Admin
from entrypoints.admin_api.openapi import ADMIN, errors
from entrypoints.admin_api.schemas import KeyMovesView, KeysView, KeyView
from entrypoints.wiring.di import Injected


class KeysController(Controller):
    path = "/keys"
    tags = ["keys"]

    @get("/", responses=errors(ADMIN), summary="Signing keys with their states (public halves)")
    async def list_keys(self, list_keys: Injected[ListKeys], admin: Admin) -> KeysView:
        """Every signing key with its state (`next`, `active`, `retiring`, `retired`, `revoked`) and
        public half; private halves never leave the key store."""
        return KeysView([KeyView.of(k) for k in await list_keys()])

    @post("/rotate", status_code=HTTP_200_OK, responses=errors(ADMIN),
          summary="Advance the key states as far as the timing allows")
    async def rotate(
        self, rotate_keys_now: Injected[RotateKeysNow], admin: Admin
    ) -> KeyMovesView:
        """Moves the key states on as far as the timing allows (what the hourly schedule does);
        nothing happens when it is not time yet."""
        return KeyMovesView(await rotate_keys_now(admin))

    @post("/{kid:str}/revoke", status_code=HTTP_200_OK,
          responses=errors(ADMIN, UnknownKey, InvalidKeyTransition),
          summary="Emergency: the key stops signing and verifying at once")
    async def revoke(
        self, kid: FromPath[str], revoke_signing_key: Injected[RevokeSigningKey], admin: Admin
    ) -> KeyMovesView:
        """Emergency: the key stops signing and verifying on every node at once, its sockets close
        with 1008 `key revoked`, and the staged key takes over so users stay signed in."""
        return KeyMovesView(await revoke_signing_key(admin, kid))

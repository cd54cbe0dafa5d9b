"""Sign in with Apple and Google, and the providers linked to the signed-in user."""

from litestar import Controller, delete, get, post
from litestar.di import Provide
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from application.identity.linked_identities import LinkIdentity, ListIdentities, UnlinkIdentity
from application.identity.provider_sign_in import SignInWithProvider
from domain.shared.errors import NotFound
from domain.users.identities import (
    IdentityInUse,
    IdTokenReplayed,
    InvalidIdToken,
    LastSignInMethod,
    MembersOnly,
    Provider,
    ProviderAlreadyLinked,
    ProviderDisabled,
)
from domain.users.model import AlreadyMember, EmailInUse, UserDisabled
from entrypoints.mobile_api.auth import (
    CurrentUser,
    MaybeUser,
    provide_optional_principal,
    provide_principal,
)
from entrypoints.mobile_api.openapi import BODY, SIGNED_IN, errors
from entrypoints.mobile_api.schemas import SessionView
from entrypoints.mobile_api.schemas_social import (
    IdentitiesView,
    IdentityView,
    LinkIdentityRequest,
    ProviderSignInRequest,
)
from entrypoints.wiring.di import Injected

BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
SIGN_IN = (
    "200 like POST /sessions. The ID token is checked against the provider's published "
    "keys; the first sign-in makes a member (with a guest's bearer: upgrades that guest in "
    "place), later ones find it. A token is held to the device it was first used from "
    "until it expires: sending it again from that device signs in again, from another "
    "device it is refused. Errors: 401 invalid_token or token_replayed (used from another "
    "device), 403 account_disabled, 404 "
    "provider_disabled, 409 email_in_use (the address belongs to an account here: log in "
    "and link) or already_member, 422 invalid input.")


class ProviderSessionsController(Controller):
    path = "/sessions"
    tags = ["identity"]
    dependencies = {"principal": Provide(provide_optional_principal)}
    security = BEARER

    @post("/apple", status_code=HTTP_200_OK, opt={"limit": "sessions"},
          responses=errors(SIGNED_IN, BODY, InvalidIdToken, IdTokenReplayed, ProviderDisabled,
                           IdentityInUse, AlreadyMember, EmailInUse, UserDisabled, NotFound),
          summary="Sign in with Apple and bind this device", description=SIGN_IN)
    async def apple(
        self, data: JSONBody[ProviderSignInRequest],
        sign_in_with_provider: Injected[SignInWithProvider], principal: MaybeUser,
    ) -> SessionView:
        """Signs in with an Apple ID token (creating the member on first use) and binds this device;
        answers tokens as log-in does."""
        return SessionView.of(await sign_in_with_provider(
            Provider.APPLE, data.id_token, data.nonce, data.device_id, data.platform,
            principal))

    @post("/google", status_code=HTTP_200_OK, opt={"limit": "sessions"},
          responses=errors(SIGNED_IN, BODY, InvalidIdToken, IdTokenReplayed, ProviderDisabled,
                           IdentityInUse, AlreadyMember, EmailInUse, UserDisabled, NotFound),
          summary="Sign in with Google and bind this device", description=SIGN_IN)
    async def google(
        self, data: JSONBody[ProviderSignInRequest],
        sign_in_with_provider: Injected[SignInWithProvider], principal: MaybeUser,
    ) -> SessionView:
        """Signs in with a Google ID token (creating the member on first use) and binds this device;
        answers tokens as log-in does."""
        return SessionView.of(await sign_in_with_provider(
            Provider.GOOGLE, data.id_token, data.nonce, data.device_id, data.platform,
            principal))


class IdentitiesController(Controller):
    path = "/me/identities"
    tags = ["profile"]
    dependencies = {"principal": Provide(provide_principal)}
    security = BEARER

    @get("/", responses=errors(SIGNED_IN), summary="Apple and Google sign-ins linked")
    async def list_identities(
        self, list_identities: Injected[ListIdentities], principal: CurrentUser
    ) -> IdentitiesView:
        """The Apple and Google sign-ins linked to this account."""
        return IdentitiesView([IdentityView.of(i) for i in await list_identities(principal)])

    @post("/", status_code=HTTP_200_OK, opt={"limit": "sessions"},
          responses=errors(SIGNED_IN, BODY, MembersOnly, InvalidIdToken, IdTokenReplayed,
                           ProviderDisabled, IdentityInUse, ProviderAlreadyLinked),
          summary="Link Apple or Google to this account",
          description="Errors: 401 invalid_token or token_replayed (the token was used "
                      "from another device than this session's), 403 members_only (a "
                      "guest signs in with the provider instead), 404 provider_disabled, "
                      "409 identity_in_use (linked to another user) or "
                      "provider_already_linked.")
    async def link(
        self, data: JSONBody[LinkIdentityRequest], link_identity: Injected[LinkIdentity],
        principal: CurrentUser,
    ) -> IdentityView:
        """Links an Apple or Google sign-in to this account, given one of its ID tokens."""
        return IdentityView.of(await link_identity(
            principal, Provider(data.provider), data.id_token, data.nonce))

    @delete("/{provider:str}", status_code=HTTP_204_NO_CONTENT,
            responses=errors(SIGNED_IN, NotFound, LastSignInMethod),
            summary="Unlink Apple or Google (never the last way to sign in)",
            description="Errors: 404 not_found (not linked), 409 last_sign_in_method (no "
                        "password and no other provider would be left).")
    async def unlink(
        self, provider: FromPath[str], unlink_identity: Injected[UnlinkIdentity],
        principal: CurrentUser,
    ) -> None:
        """Unlinks Apple or Google; refused when it is the account's last way to sign in."""
        if provider not in Provider.__members__.values():
            raise NotFound(f"no provider {provider[:32]!r}")
        await unlink_identity(principal, Provider(provider))

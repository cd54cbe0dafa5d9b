"""Request and response bodies of Sign in with Apple and Google, and linked identities."""

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from domain.users.identities import LinkedIdentity
from entrypoints.mobile_api.schemas import DeviceId, PlatformName

IdToken = Annotated[str, msgspec.Meta(
    min_length=1, max_length=8192, pattern=r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]*){2}$",
    description="The ID token (a JWT) the provider's SDK returned")]
Nonce = Annotated[str, msgspec.Meta(
    min_length=1, max_length=256,
    description="The raw nonce the app gave the SDK (Apple: the token carries its SHA-256)")]
ProviderName = Literal["apple", "google"]


class ProviderSignInRequest(msgspec.Struct):
    id_token: IdToken
    device_id: DeviceId
    platform: PlatformName
    nonce: Nonce | None = None


class LinkIdentityRequest(msgspec.Struct):
    provider: ProviderName
    id_token: IdToken
    nonce: Nonce | None = None


class IdentityView(msgspec.Struct):
    provider: ProviderName
    email: str | None
    created_at: datetime

    @classmethod
    def of(cls, identity: LinkedIdentity) -> "IdentityView":
        provider: ProviderName = "apple" if identity.provider.value == "apple" else "google"
        return cls(provider, identity.email, identity.created_at)


class IdentitiesView(msgspec.Struct):
    identities: list[IdentityView]

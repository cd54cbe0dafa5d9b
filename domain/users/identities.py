"""Sign-in identities at Apple and Google, linked to a user: the (provider, subject) pair
names one person at one provider, for good; the e-mail is only what the provider said."""

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from domain.shared.errors import Conflict, Forbidden, NotFound, Unauthorized

APPLE_RELAY_DOMAIN = "privaterelay.appleid.com"


class Provider(StrEnum):
    APPLE = "apple"
    GOOGLE = "google"


class InvalidIdToken(Unauthorized):
    """The provider's ID token is malformed, expired, or not for this app."""

    code = "invalid_token"


class IdTokenReplayed(Unauthorized):
    """This ID token was already used from another device; sign in again on this one."""

    code = "token_replayed"


class ProviderDisabled(NotFound):
    """This sign-in provider is not enabled on this server."""

    code = "provider_disabled"


class IdentityInUse(Conflict):
    """This Apple or Google account is already linked to another user."""

    code = "identity_in_use"


class ProviderAlreadyLinked(Conflict):
    """Another account of this provider is already linked; unlink it first."""

    code = "provider_already_linked"


class LastSignInMethod(Conflict):
    """This is the account's last way to sign in; set a password or link another first."""

    code = "last_sign_in_method"


class MembersOnly(Forbidden):
    """A guest signs in with the provider to become a member; linking is for members."""

    code = "members_only"


@dataclass(frozen=True)
class ProviderClaims:
    """What a verified ID token says: who, and the address only when the provider vouches
    for it (Apple sends it on the first sign-in only; it may be a private relay)."""

    provider: Provider
    subject: str
    email: str | None
    expires_at: datetime

    @property
    def private_relay(self) -> bool:
        return self.email is not None and self.email.endswith("@" + APPLE_RELAY_DOMAIN)


@dataclass(frozen=True)
class LinkedIdentity:
    user_id: str
    provider: Provider
    subject: str
    email: str | None
    created_at: datetime


def check_unlink(provider: Provider, linked: list[LinkedIdentity], has_password: bool) -> None:
    """Refuses to take away the last way in: a password, or another linked provider."""
    if not any(identity.provider is provider for identity in linked):
        raise NotFound(f"no {provider.value} sign-in is linked")
    if not has_password and len(linked) <= 1:
        raise LastSignInMethod()


def id_token_digest(id_token: str) -> str:
    """What is kept of a used ID token: its SHA-256, never the token itself."""
    return hashlib.sha256(id_token.encode()).hexdigest()

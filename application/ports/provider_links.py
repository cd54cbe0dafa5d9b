from typing import Protocol

from domain.users.identities import Provider


class LinkRefused(Exception):
    """The identity provider refuses the link for good (the login is gone there, or the
    provider is not set up in it): retrying cannot help."""


class ProviderLinks(Protocol):
    """The identity provider's own record of the Apple and Google sign-ins linked to a login
    (Cognito's linked external identities); the embedded provider keeps none."""

    async def link_provider(self, login_subject: str, provider: Provider, subject: str) -> None:
        """Links the provider's `subject` to the login; linking it again is fine, and a link
        it had to another login moves here. LinkRefused when that can never work."""
        ...

    async def unlink_provider(self, provider: Provider, subject: str) -> None:
        """Removes any link of the provider's `subject`; one never linked is fine."""
        ...

from application.ports.tokens import AccessTokenVerifier
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.admins.model import AdminIdentity, AdminSource
from domain.shared.errors import Unauthorized


class AdminSessionEnded(Unauthorized):
    """This admin no longer exists or is disabled."""

    code = "session_ended"


class LocalAdminTokens:
    """AdminTokenVerifier for the embedded default: our EdDSA admin token (aud
    `atelier-admin`), and the local admin behind it still active."""

    def __init__(self, verifier: AccessTokenVerifier, uow_factory: UnitOfWorkFactory) -> None:
        self._verifier, self._uow_factory = verifier, uow_factory

    async def verify(self, token: str) -> AdminIdentity:
        claims = self._verifier.verify(token)
        async with self._uow_factory() as uow:
            admin = await uow.admins.get(str(claims["sub"]))
        if admin is None or admin.disabled:
            raise AdminSessionEnded()
        return AdminIdentity(admin.id, AdminSource.LOCAL, admin.email)

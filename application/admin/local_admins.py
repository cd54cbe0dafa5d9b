import secrets
from dataclasses import dataclass
from datetime import timedelta

from application.admin.acting import Acting
from application.auth.policy import AuthPolicy
from application.identity.password_check import clear_login_attempts, take_login_attempt
from application.ports.admin import PasswordHasher
from application.ports.clock import Clock
from application.ports.tokens import TokenSigner
from application.ports.unit_of_work import UnitOfWorkFactory
from domain.admins.model import (
    AdminIdentity,
    AdminSource,
    AuditEntry,
    InvalidAdminCredentials,
    LocalAdmin,
)
from domain.shared.errors import Conflict
from domain.shared.ids import new_id
from domain.users.model import check_password, normalize_email

ADMIN_AUDIENCE = "atelier-admin"


class AdminExists(Conflict):
    """An admin with this e-mail already exists."""

    code = "admin_exists"


def attempts_key(email: str) -> str:
    """Admin log-ins count apart from members' (same lock-out rule, own counter)."""
    return f"admin:{email}"[:254]


class CreateLocalAdmin:
    """`atelier admin create EMAIL`: an admin of the embedded default, argon2id-hashed."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, hasher: PasswordHasher, clock: Clock
    ) -> None:
        self._uow_factory, self._hasher, self._clock = uow_factory, hasher, clock

    async def __call__(self, acting: Acting, email: str, password: str) -> LocalAdmin:
        email, password = normalize_email(email), check_password(password)
        admin = LocalAdmin(new_id(), email, await self._hasher.hash(password), self._clock())
        async with self._uow_factory() as uow:
            if await uow.admins.get_by_email(email) is not None:
                raise AdminExists()
            await uow.admins.add(admin)
            await uow.audit.append(acting.entry("admin.created", "admin", admin.id,
                                                admin.created_at, email=email))
            await uow.commit()
        return admin


@dataclass(frozen=True)
class AdminSession:
    admin: LocalAdmin
    token: str
    expires_in: int


class LocalAdminLogin:
    """E-mail + password -> a short-lived EdDSA admin token, behind the login lock-out."""

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        hasher: PasswordHasher,
        signer: TokenSigner,
        policy: AuthPolicy,
        clock: Clock,
        token_ttl: timedelta,
    ) -> None:
        self._uow_factory, self._hasher, self._signer = uow_factory, hasher, signer
        self._policy, self._clock, self._ttl = policy, clock, token_ttl
        self._dummy: str | None = None

    async def __call__(self, email: str, password: str, source_ip: str) -> AdminSession:
        """Failures count per address and source (the client's address), as for members;
        each one goes to the audit log."""
        email = normalize_email(email)
        key = attempts_key(email)
        lockout = self._policy.lockout
        await take_login_attempt(self._uow_factory, lockout, self._clock, key, source_ip)
        async with self._uow_factory() as uow:
            admin = await uow.admins.get_by_email(email)
        if admin is None:
            # The same work as a real check, so timing does not reveal who is an admin.
            self._dummy = self._dummy or await self._hasher.hash(secrets.token_urlsafe(16))
            await self._hasher.verify(self._dummy, password)
        ok = (admin is not None and not admin.disabled
              and await self._hasher.verify(admin.password_hash, password))
        now = self._clock()
        if not ok or admin is None:
            async with self._uow_factory() as uow:
                await uow.audit.append(AuditEntry(
                    now, "anonymous", "admin.login_failed", "admin",
                    admin.id if admin is not None else email, source_ip,
                    details={"email": email}))
                await uow.commit()
            raise InvalidAdminCredentials()
        await clear_login_attempts(self._uow_factory, key, source_ip)
        async with self._uow_factory() as uow:
            identity = AdminIdentity(admin.id, AdminSource.LOCAL, admin.email)
            await uow.audit.append(
                Acting(identity, source_ip).entry("admin.login", "admin", admin.id, now))
            await uow.commit()
        ttl = int(self._ttl.total_seconds())
        issued = int(now.timestamp())
        token = self._signer.sign({
            "iss": self._policy.issuer, "sub": admin.id, "aud": ADMIN_AUDIENCE,
            "iat": issued, "exp": issued + ttl, "jti": secrets.token_urlsafe(12),
            "email": admin.email, "groups": ["admins"],
        }, "at+jwt")
        return AdminSession(admin, token, ttl)

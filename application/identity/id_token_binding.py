from application.ports.unit_of_work import UnitOfWork
from domain.users.identities import IdTokenReplayed, ProviderClaims, id_token_digest


async def bind_id_token_to_device(
    uow: UnitOfWork, claims: ProviderClaims, id_token: str, device_id: str
) -> None:
    """Holds an accepted ID token to the device it was first used from until it expires:
    the same device may present it again (SDKs restore a sign-in from a cached token), a
    stolen copy sent from another device is refused. Inside the caller's transaction, so a
    sign-in that fails leaves the token unbound."""
    bound = await uow.id_token_uses.bind(
        claims.provider, id_token_digest(id_token), device_id, claims.expires_at)
    if bound != device_id:
        raise IdTokenReplayed()

from application.ports.identity import IdentityProvider
from application.ports.limits import RateLimiter
from domain.shared.errors import TooManyRequests
from domain.users.model import normalize_email

CODES_PER_ADDRESS_PER_DAY = 5
DAY_SECONDS = 86400.0


class ResendConfirmationCode:
    """A new confirmation code for an address still waiting for one (after an expired code
    or five wrong ones, the only way in). The same answer whether or not it is registered;
    a few codes a day per address, so codes cannot be guessed through resends."""

    def __init__(self, identity: IdentityProvider, limiter: RateLimiter) -> None:
        self._identity, self._limiter = identity, limiter

    async def __call__(self, email: str) -> None:
        email = normalize_email(email)
        decision = await self._limiter.hit(
            f"confirmation-code:{email}", CODES_PER_ADDRESS_PER_DAY, DAY_SECONDS)
        if not decision.allowed:
            raise TooManyRequests(decision.retry_after, "too many codes for this address today")
        await self._identity.resend_code(email)

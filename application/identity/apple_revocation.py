"""Revoking the app's Sign in with Apple authorization when an account is deleted (Apple
requires it of apps that offer Sign in with Apple). Atelier verifies Apple's ID tokens
and keeps no Apple token, so the app sends a fresh authorization code with the deletion;
it lives five minutes and works once. It is redeemed in the request when Apple answers,
and the token it yields is revoked by the clean-up relay, retried until Apple takes it;
if Apple is down during the request, the code itself is queued and the relay redeems it
while it lasts."""

import logging
from typing import Any

from application.ports.apple_tokens import AppleTokens, RevocableToken
from application.ports.images import Destinations

REVOKE_APPLE = "account.revoke_apple"

log = logging.getLogger(__name__)


async def revocation_for(apple: AppleTokens, code: str | None) -> dict[str, Any] | None:
    """The clean-up message's payload for the code the app sent, or None when there is
    nothing to revoke (no code, revocation not configured, or a code Apple refuses)."""
    if not code or not apple.enabled:
        return None
    try:
        token = await apple.redeem(code)
    except Exception as error:
        log.warning("Apple did not answer; the code is queued as it is: %r", error)
        return {"code": code}
    if token is None:
        log.warning("Apple refused the authorization code; nothing to revoke with it")
        return None
    return {"token": token.value, "hint": token.hint}


def apple_revocation(apple: AppleTokens) -> Destinations:
    """The clean-up relay's destination for `account.revoke_apple`."""

    async def revoke(payload: dict[str, Any]) -> None:
        if "code" in payload:
            token = await apple.redeem(str(payload["code"]))
            if token is None:
                log.warning("a queued Apple code expired before Apple came back; the user "
                            "can still revoke the app in their Apple account settings")
                return
        else:
            token = RevocableToken(str(payload["token"]), "access_token"
                                   if payload["hint"] == "access_token" else "refresh_token")
        await apple.revoke(token)

    return {REVOKE_APPLE: revoke}

"""Cognito user pool triggers: `pre_sign_up` screens the address, `post_confirmation`
upserts the user row by the Cognito `sub` (idempotent).

The handlers take Cognito's own event shapes and return the event, as Cognito expects. No
web framework is imported; the database is reached only by `post_confirmation`, through
the shared bootstrap (entrypoints/lambdas/bootstrap.py). The local identity provider runs
the same use cases in-process (entrypoints/wiring/builders.py).
"""

import logging
from typing import Any

from application.identity.triggers import RecordConfirmedSignUp, ScreenSignUp
from domain.shared.clock import utcnow
from domain.shared.errors import DomainError
from domain.users.signup import SignUpPolicy, parse_domains
from entrypoints.lambdas import bootstrap

log = logging.getLogger("atelier.lambdas")
log.setLevel(logging.INFO)

Event = dict[str, Any]


class SignUpRefused(Exception):
    """Raised to Cognito, which answers the sign-up with UserLambdaValidationException."""


def _attributes(event: Event) -> dict[str, Any]:
    request = event.get("request") or {}
    attributes = request.get("userAttributes") or {}
    if not isinstance(attributes, dict):
        raise SignUpRefused("malformed event: request.userAttributes")
    return attributes


def pre_sign_up(event: Event, context: Any) -> Event:
    """PreSignUp_SignUp / _AdminCreateUser / _ExternalProvider: refuses an invalid or
    blocked (ATELIER_BLOCKED_EMAIL_DOMAINS) address; never auto-confirms."""
    email = _attributes(event).get("email") or event.get("userName") or ""
    screen = ScreenSignUp(SignUpPolicy(parse_domains(bootstrap.env("BLOCKED_EMAIL_DOMAINS"))))
    try:
        bootstrap.run(screen(str(email)))
    except DomainError as error:
        log.info("sign-up refused: %s", error.code)
        raise SignUpRefused(error.message) from None
    return event


def post_confirmation(event: Event, context: Any) -> Event:
    """PostConfirmation_ConfirmSignUp: the user row exists, confirmed, for this `sub`.
    PostConfirmation_ConfirmForgotPassword changes nothing here."""
    if event.get("triggerSource") != "PostConfirmation_ConfirmSignUp":
        return event
    attributes = _attributes(event)
    subject, email = attributes.get("sub"), attributes.get("email")
    if not isinstance(subject, str) or not isinstance(email, str):
        raise SignUpRefused("malformed event: sub and email are required")
    record = RecordConfirmedSignUp(bootstrap.uow_factory(), utcnow)
    user = bootstrap.run(record(email, subject))
    log.info("confirmed sign-up recorded for user %s", user.id)
    return event

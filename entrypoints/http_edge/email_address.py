"""E-mail addresses as clients type them, parsed into the one form the service stores.

email-validator does the parsing (RFC 5321/5322 syntax, IDNA 2008 for international
domains); the domain's own rule then checks the result. Only a plain addr-spec gets
through: `x<victim@evil.com>`, `a,b@example.com` or an encoded word would otherwise reach
a mail system that reads them as somebody else's mailbox.
"""

from email_validator import EmailNotValidError, validate_email

from domain.users.model import ENCODED_WORD, InvalidEmail, normalize_email


def parse_email_address(raw: str) -> str:
    """`" Aiko@Bücher.DE "` -> `"aiko@xn--bcher-kva.de"`, or InvalidEmail saying why not."""
    try:
        parsed = validate_email(
            raw.strip(), check_deliverability=False, allow_smtputf8=False,
            allow_display_name=False, allow_quoted_local=False, allow_domain_literal=False,
            # `.test` is reserved for testing (RFC 6761): no one can own it or receive its mail.
            test_environment=True)
    except EmailNotValidError as error:
        raise InvalidEmail(f"not a valid e-mail address: {error}") from None
    if ENCODED_WORD in parsed.local_part:
        raise InvalidEmail("not a valid e-mail address: encoded words (=?...?=) are not allowed")
    # Never None here: without SMTPUTF8 an address that is not ASCII was refused above.
    return normalize_email(parsed.ascii_email or "")

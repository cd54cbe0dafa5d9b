"""Mail headers from values that were checked, never pasted in as text.

A header set from a string is parsed as an address *list*, so `x<victim@evil.com>` would
mail the victim: a recipient here is one bare addr-spec or an error. A line break in a
subject would start another header (`Bcc:`): a subject is one line or an error.
"""

from email.errors import HeaderParseError
from email.headerregistry import Address
from email.policy import default


def recipient(addr_spec: str) -> Address:
    """The one mailbox `addr_spec` names; ValueError for anything but a plain addr-spec."""
    try:
        address = Address(addr_spec=addr_spec)
    except (ValueError, HeaderParseError) as error:
        raise ValueError(f"not a single mailbox: {addr_spec!r}") from error
    # The parser drops comments: what it kept must be all there was. A quoted local part or
    # an address literal names one mailbox too, but no mail system should have to parse it.
    plain = f"{address.username}@{address.domain}"
    if address.addr_spec != addr_spec or plain != addr_spec or address.domain.startswith("["):
        raise ValueError(f"not a single mailbox: {addr_spec!r}")
    return address


def parse_sender(value: str) -> Address:
    """`"Atelier <no-reply@example.com>"` or a bare address, as configured: exactly one."""
    addresses = default.header_factory("From", value).addresses
    if len(addresses) != 1:
        raise ValueError(f"not one sender address: {value!r}")
    address: Address = addresses[0]
    recipient(address.addr_spec)
    return address


def subject_line(subject: str) -> str:
    """The subject, if it is one line; ValueError if it would start another header."""
    if "\r" in subject or "\n" in subject:
        raise ValueError("a subject is one line")
    return subject

"""Who may sign up: the rule behind Cognito's pre sign-up trigger (and its local stand-in)."""

from dataclasses import dataclass, field

from domain.shared.errors import InvalidInput
from domain.users.model import normalize_email


class EmailDomainNotAllowed(InvalidInput):
    """Sign-ups from this e-mail domain are not accepted."""

    code = "email_domain_not_allowed"


def parse_domains(raw: str | None) -> frozenset[str]:
    """`"mailinator.com, Example.org"` -> {"mailinator.com", "example.org"}."""
    return frozenset(d.strip().lower().lstrip("@") for d in (raw or "").split(",") if d.strip())


@dataclass(frozen=True)
class SignUpPolicy:
    blocked_domains: frozenset[str] = field(default_factory=frozenset)

    def check(self, raw_email: str) -> str:
        """The normalized address, or InvalidEmail / EmailDomainNotAllowed. A blocked
        domain also blocks its subdomains."""
        email = normalize_email(raw_email)
        domain = email.rpartition("@")[2]
        parts = domain.split(".")
        for i in range(len(parts) - 1):
            if ".".join(parts[i:]) in self.blocked_domains:
                raise EmailDomainNotAllowed()
        return email

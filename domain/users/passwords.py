"""The one password policy, the same wherever a password is set: here, for the local
identity provider and before a sign-up reaches Cognito, and in the Cognito user pool's
`password_policy` (deploy/terraform/modules/identity, checked against this by a test).

Length-based, as NIST SP 800-63B recommends: at least 12 characters, any characters, no
composition rules (no required upper case, digit or symbol), and no password that is
commonly used, one character repeated, or a plain run such as `123456789012`.
"""

from dataclasses import dataclass

# The most used passwords of 12 characters or more in public breach corpora.
COMMON = frozenset({
    "123456789012", "1234567890123", "12345678901234", "123456789123", "111111111111",
    "000000000000", "123123123123", "qwertyuiop12", "qwertyuiopas", "qwertyuiopasdfgh",
    "qwertyuiopasdfghjkl", "1q2w3e4r5t6y", "1q2w3e4r5t6y7u", "1qaz2wsx3edc", "zaq12wsxcde3",
    "password1234", "password12345", "password123456", "passwordpassword", "password123!",
    "p@ssword1234", "p@ssw0rd1234", "iloveyou1234", "welcome12345", "letmein12345",
    "administrator", "adminadmin123", "abc123abc123", "abcdefghijkl", "abcd1234abcd",
    "asdfghjkl123", "asdfghjklzxcv", "zxcvbnm12345", "monkey123456", "dragon123456",
    "football1234", "baseball1234", "sunshine1234", "princess1234", "trustno1trustno1",
    "changeme1234", "changemenow!", "mypassword123", "thisismypassword", "correcthorse",
})
_RUNS = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiopasdfghjklzxcvbnm")


@dataclass(frozen=True)
class PasswordPolicy:
    """What a password must be. The `require_*` rules mirror Cognito's policy fields; all
    off by design (composition rules make passwords harder to remember, not to guess)."""

    min_length: int = 12
    max_length: int = 256
    require_lowercase: bool = False
    require_uppercase: bool = False
    require_numbers: bool = False
    require_symbols: bool = False

    def allows(self, password: str) -> bool:
        if not self.min_length <= len(password) <= self.max_length:
            return False
        if self.require_lowercase and not any(c.islower() for c in password):
            return False
        if self.require_uppercase and not any(c.isupper() for c in password):
            return False
        if self.require_numbers and not any(c.isdigit() for c in password):
            return False
        if self.require_symbols and all(c.isalnum() or c.isspace() for c in password):
            return False
        return not is_guessable(password)


def is_guessable(password: str) -> bool:
    """Commonly used, one character over and over, or a slice of an obvious run."""
    folded = password.lower()
    if folded in COMMON or len(set(folded)) == 1:
        return True
    return any(folded in run or folded in run[::-1] for run in _RUNS)


PASSWORD_POLICY = PasswordPolicy()

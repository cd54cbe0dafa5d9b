"""How `atelier` reads its command line."""

import pytest

from entrypoints.cli.main import parse_args


@pytest.mark.parametrize("kid", ["-WKCBOmeHFJoaTfy4AaTebx72StTxY11HOpmWEtOovw", "--x", "-"])
def test_a_kid_that_starts_with_a_dash_is_revoked_not_read_as_an_option(kid: str) -> None:
    # A kid is a base64url thumbprint: one in 64 starts with "-".
    assert parse_args(["keys", "revoke", kid]).kid == kid


def test_the_explicit_separator_still_works() -> None:
    assert parse_args(["keys", "revoke", "--", "-abc"]).kid == "-abc"


def test_help_is_still_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_args(["keys", "revoke", "--help"])
    assert exit_.value.code == 0
    assert "kid" in capsys.readouterr().out

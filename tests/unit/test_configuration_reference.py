"""docs/configuration.md is what the code reads: every setting documented, the page current."""

from pathlib import Path

from entrypoints.wiring.settings import Settings
from entrypoints.wiring.settings_reference import render, undocumented

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_setting_says_what_it_does() -> None:
    assert undocumented() == []


def test_the_committed_page_is_what_the_code_generates() -> None:
    assert PAGE.read_text() == render(), (
        "docs/configuration.md is stale: run "
        "`uv run python -m entrypoints.wiring.settings_reference > docs/configuration.md`")


def test_every_setting_and_its_variables_are_on_the_page() -> None:
    page = PAGE.read_text()
    for name in Settings.model_fields:
        assert f"`ATELIER_{name.upper()}`" in page, name
    assert "`DATABASE_URL`" in page and "`REDIS_URL`" in page

"""The licence is chosen and stated once: Apache-2.0, in LICENSE and in the package metadata."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_licence_is_apache_2_with_our_copyright() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.lstrip().startswith("Apache License\n                           Version 2.0")
    assert "END OF TERMS AND CONDITIONS" in text and "9. Accepting Warranty" in text
    assert "Copyright 2026 The Atelier authors" in text and "[yyyy]" not in text
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert (project["license"], project["license-files"]) == ("Apache-2.0", ["LICENSE"])

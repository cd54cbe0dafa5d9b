"""Every `atelier ...` command docs/operations.md tells an operator to run exists: it parses
with the CLI's own parser (and so do the commands given to ECS tasks as JSON arrays)."""

import json
import re
import shlex
from pathlib import Path

import pytest

from entrypoints.cli.main import parse_args

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
PLACEHOLDERS = {"<kid>": "kid-from-keys-list", "KID": "kid-from-keys-list"}
SHELL_ENDS = ("|", "&&", ";", "#", ">", "2>", "<")


def quoted_commands(text: str) -> list[list[str]]:
    """`atelier ...` in inline code and code blocks, and ECS override commands."""
    found = []
    spans = re.findall(r"`([^`\n]*\batelier [^`\n]*)`", text)
    lines = [line for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.DOTALL)
             for line in block.splitlines()]
    for candidate in spans + lines:
        for match in re.finditer(r"(?:^|[\s$])atelier ((?:[^`])*)", candidate):
            match_text = match.group(1)
            for placeholder, value in PLACEHOLDERS.items():
                match_text = match_text.replace(placeholder, value)
            words = []
            for word in shlex.split(match_text, comments=False):
                if word.startswith(SHELL_ENDS):
                    break
                words.append(word)
            if words and not words[0].startswith("-") and words[0] != "...":
                found.append(words)
    for array in re.findall(r'"command":(\[[^\]]*\])', text):
        found.append(json.loads(array))
    return found


COMMANDS = quoted_commands(OPERATIONS.read_text())


def test_the_runbooks_quote_commands() -> None:
    verbs = {" ".join(words[:2]) for words in COMMANDS}
    assert {"keys revoke", "keys rotate", "jobs redrive", "jobs list", "db upgrade"} <= verbs


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_each_quoted_command_parses(words: list[str]) -> None:
    parse_args(words)  # argparse exits (status 2) on anything it does not know

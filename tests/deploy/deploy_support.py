"""Helpers of the deploy tests: repository paths and the parsed Terraform tree.

Terraform is parsed with python-hcl2 (8.x). With these serialization options string
literals lose their quotes, expressions come back as "${...}" strings, blocks come back as
lists of dicts and comments (so checkov skip comments) are dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO_ROOT / "deploy" / "terraform"
MODULES_DIR = TERRAFORM_DIR / "modules"
ENVIRONMENTS_DIR = TERRAFORM_DIR / "environments"

HCL_OPTIONS = SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False
)


def parse_hcl(text: str) -> dict[str, Any]:
    return hcl2.loads(text, serialization_options=HCL_OPTIONS)


@dataclass(frozen=True)
class Block:
    """One `resource`, `data`, `variable`, `module`... block of a Terraform file."""

    path: Path
    kind: str  # resource, data, variable, output, module, ...
    type: str  # e.g. aws_db_instance; "" for variable/output/module
    name: str
    body: dict[str, Any]

    @property
    def where(self) -> str:
        rel = self.path.relative_to(REPO_ROOT) if self.path.is_relative_to(REPO_ROOT) else self.path
        label = f"{self.type}.{self.name}" if self.type else f"{self.kind}.{self.name}"
        return f"{rel}: {label}"


class Terraform:
    """Every .tf file under deploy/terraform, parsed once per session."""

    def __init__(self, root: Path) -> None:
        self.files: dict[Path, dict[str, Any]] = {
            path: parse_hcl(path.read_text()) for path in sorted(root.rglob("*.tf"))
        }

    def blocks(self, kind: str, type_: str | None = None, under: Path | None = None) -> list[Block]:
        found: list[Block] = []
        for path, doc in self.files.items():
            if under is not None and under not in path.parents:
                continue
            for entry in doc.get(kind, []):
                if kind in ("resource", "data"):
                    for block_type, named in entry.items():
                        if type_ is not None and block_type != type_:
                            continue
                        for name, body in named.items():
                            found.append(Block(path, kind, block_type, name, body))
                else:
                    for name, body in entry.items():
                        found.append(Block(path, kind, "", name, body))
        return found

    def resources(self, type_: str, under: Path | None = None) -> list[Block]:
        return self.blocks("resource", type_, under)

    def resource(self, type_: str, name: str, under: Path | None = None) -> Block:
        matches = [b for b in self.resources(type_, under) if b.name == name]
        assert len(matches) == 1, f"expected one {type_}.{name}, found {len(matches)}"
        return matches[0]

    def data(self, type_: str, under: Path | None = None) -> list[Block]:
        return self.blocks("data", type_, under)


def nested(body: dict[str, Any], *keys: str) -> Iterator[dict[str, Any]]:
    """Walk nested blocks (each a list of dicts): nested(b, "condition", "path_pattern")."""
    if not keys:
        yield body
        return
    head, *rest = keys
    value = body.get(head, [])
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            yield from nested(item, *rest)


def one(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    items = list(nested(body, *keys))
    assert len(items) == 1, f"expected exactly one {'.'.join(keys)} block, found {len(items)}"
    return items[0]

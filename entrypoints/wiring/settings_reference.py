"""The configuration reference (docs/configuration.md), generated from `Settings`.

`uv run python -m entrypoints.wiring.settings_reference > docs/configuration.md`; a test
keeps the committed page equal to what this prints. Sections follow the `# comment`
headings of the `Settings` class; each field's text is its attribute docstring.
"""

import inspect
import re
from enum import Enum
from pathlib import Path
from typing import Any, get_args

from pydantic.fields import FieldInfo

from entrypoints.wiring.settings import Settings

_SECTION = re.compile(r"^    # (?P<title>[^\n]+)$")
_FIELD = re.compile(r"^    (?P<name>[a-z_][a-z0-9_]*): ")

HEADER = """# Configuration reference

Every setting of every entrypoint, generated from the code
(`uv run python -m entrypoints.wiring.settings_reference > docs/configuration.md`; a test
fails when this page and the code disagree).

Each setting is read from the environment as `ATELIER_<NAME>`; the ones that also answer to
their usual name (`DATABASE_URL`, `REDIS_URL`, `AWS_REGION`, ...) say so. Any value may be
a reference instead of the value itself: `ssm:/path/to/parameter` (Parameter Store, which
may in turn hold `secretsmanager:<arn>`) or `secretsmanager:<arn>`, resolved once at
start-up. Unset optional values keep the embedded default: SQLite and files under the data
directory, an in-process queue, the local image generator, the local identity provider.
"""


def sections() -> list[tuple[str, list[str]]]:
    """(heading, field names) in the order the class declares them."""
    found: list[tuple[str, list[str]]] = [("general", [])]
    for line in inspect.getsource(Settings).splitlines():
        if heading := _SECTION.match(line):
            found.append((heading["title"], []))
        elif (field := _FIELD.match(line)) and field["name"] in Settings.model_fields:
            found[-1][1].append(field["name"])
    return [(title, names) for title, names in found if names]


def variables(name: str, info: FieldInfo) -> str:
    alias = info.validation_alias
    names = list(getattr(alias, "choices", [])) or [f"ATELIER_{name.upper()}"]
    return ", ".join(f"`{n}`" for n in names)


def type_name(annotation: Any) -> str:
    choices = [a for a in get_args(annotation) if a is not type(None)]
    if getattr(annotation, "__origin__", None) is not None and str(annotation).startswith(
            "typing.Literal"):
        return " \\| ".join(f"`{c}`" for c in get_args(annotation))
    if choices and len(choices) < len(get_args(annotation)):
        return f"{type_name(choices[0])} (optional)"
    if isinstance(annotation, type):
        return "path" if issubclass(annotation, Path) else annotation.__name__
    return str(annotation).replace("typing.", "")


def default(info: FieldInfo) -> str:
    value = info.default
    if value is None:
        return "unset"
    if isinstance(value, Enum):
        value = value.value
    if value == "":
        return '`""`'
    return f"`{value}`"


def render() -> str:
    out = [HEADER]
    for title, names in sections():
        out.append(f"\n## {title[0].upper()}{title[1:]}\n")
        out.append("| variable | type | default | what it does |")
        out.append("|---|---|---|---|")
        for name in names:
            info = Settings.model_fields[name]
            text = " ".join((info.description or "").split()).replace("|", "\\|")
            out.append(f"| {variables(name, info)} | {type_name(info.annotation)} | "
                       f"{default(info)} | {text} |")
    return "\n".join(out) + "\n"


def undocumented() -> list[str]:
    return [name for name, info in Settings.model_fields.items() if not info.description]


if __name__ == "__main__":
    print(render(), end="")

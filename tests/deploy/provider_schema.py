"""The AWS provider's own schema, for the resource and data types this estate uses.

aws_provider_schema.json is cut from `terraform providers schema -json` of the pinned
provider and committed, so the tests check arguments without Terraform or a network.
Regenerate it after adding a resource type or moving the provider pin:

    uv run python tests/deploy/provider_schema.py --plugin-dir /path/to/plugin-mirror

(--plugin-dir: a directory laid out as registry.terraform.io/hashicorp/aws/<version>/<os_arch>/,
e.g. what `terraform providers mirror` writes; without it, `terraform init` downloads.)
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from deploy_support import TERRAFORM_DIR

SCHEMA_FILE = Path(__file__).with_name("aws_provider_schema.json")
PROVIDER = "registry.terraform.io/hashicorp/aws"


def load() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text())


# WAF statements nest into themselves (and_statement > statement > ...): below this depth
# a block is stored as {"unchecked": true} and its contents are not checked.
MAX_DEPTH = 6


def _trim(block: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    if depth >= MAX_DEPTH:
        return {"unchecked": True}
    attributes = {
        name: "required"
        if spec.get("required")
        else "optional"
        if spec.get("optional")
        else "computed"
        for name, spec in block.get("attributes", {}).items()
    }
    blocks = {
        name: {**_trim(spec["block"], depth + 1), "min_items": spec.get("min_items", 0)}
        for name, spec in block.get("block_types", {}).items()
    }
    return {"attributes": attributes, "blocks": blocks}


def used_types() -> tuple[set[str], set[str]]:
    text = "\n".join(p.read_text() for p in TERRAFORM_DIR.rglob("*.tf"))
    resources = set(re.findall(r'^\s*resource\s+"(aws_\w+)"', text, re.MULTILINE))
    data = set(re.findall(r'^\s*data\s+"(aws_\w+)"', text, re.MULTILINE))
    return resources, data


def generate(plugin_dir: Path | None, version: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as work:
        Path(work, "main.tf").write_text(
            "terraform {\n  required_providers {\n"
            f'    aws = {{ source = "hashicorp/aws", version = "{version}" }}\n  }}\n}}\n'
        )
        init = ["terraform", "init", "-backend=false", "-input=false"]
        if plugin_dir:
            init.append(f"-plugin-dir={plugin_dir}")
        subprocess.run(init, cwd=work, check=True, capture_output=True)
        raw = subprocess.run(
            ["terraform", "providers", "schema", "-json"],
            cwd=work,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    schema = json.loads(raw)["provider_schemas"][PROVIDER]
    resources, data = used_types()
    return {
        "provider_version": version,
        "resource": {t: _trim(schema["resource_schemas"][t]["block"]) for t in sorted(resources)},
        "data": {t: _trim(schema["data_source_schemas"][t]["block"]) for t in sorted(data)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugin-dir", type=Path)
    parser.add_argument("--version", default="5.100.0")
    args = parser.parse_args()
    schema = generate(args.plugin_dir, args.version)
    SCHEMA_FILE.write_text(json.dumps(schema, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"wrote {SCHEMA_FILE}")


if __name__ == "__main__":
    main()

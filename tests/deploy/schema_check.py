"""Arguments, nested blocks and attribute references of every AWS block, checked against the
provider's own schema (provider_schema.py): an argument the provider does not know, a
computed-only one set, a required one missing, or a reference to an attribute the
resource does not export."""

from __future__ import annotations

import re
from typing import Any

from deploy_support import Terraform
from rules import Finding, text

META = {"count", "for_each", "provider", "depends_on", "lifecycle", "provisioner", "connection"}
ATTRIBUTE_REFERENCE = re.compile(
    r"(?<![\w.])(data\.)?(aws_[a-z0-9_]+)\.([a-z0-9_-]+)(?:\[[^\]]*\])?\.([a-z0-9_]+)"
)


def _check_body(body: dict[str, Any], spec: dict[str, Any], where: str) -> list[Finding]:
    if spec.get("unchecked"):
        return []
    findings = []
    attributes, blocks = spec["attributes"], spec["blocks"]
    present = set(body)
    for dynamic in body.get("dynamic", []):
        for label, definition in dynamic.items():
            present.add(label)
            if label not in blocks:
                findings.append(Finding("schema", where, f"unknown dynamic block {label}"))
                continue
            for content in definition.get("content", []):
                findings += _check_body(content, blocks[label], f"{where}.{label}")
    for key, value in body.items():
        if key in META or key == "dynamic":
            continue
        if key in attributes:
            if attributes[key] == "computed":
                findings.append(Finding("schema", where, f"{key} is computed only"))
        elif key in blocks:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    findings += _check_body(item, blocks[key], f"{where}.{key}")
        else:
            findings.append(Finding("schema", where, f"unknown argument {key}"))
    for name, kind in attributes.items():
        if kind == "required" and name not in present:
            findings.append(Finding("schema", where, f"required argument {name} missing"))
    for name, block in blocks.items():
        if block.get("min_items", 0) > 0 and name not in present:
            findings.append(Finding("schema", where, f"required block {name} missing"))
    return findings


def _exports(spec: dict[str, Any], attribute: str) -> bool:
    return attribute in spec["attributes"] or attribute in spec["blocks"] or attribute == "id"


def schema_findings(tree: Terraform, schema: dict[str, Any]) -> list[Finding]:
    findings = []
    for kind in ("resource", "data"):
        for block in tree.blocks(kind):
            if not block.type.startswith("aws_"):
                continue
            spec = schema[kind].get(block.type)
            if spec is None:
                findings.append(Finding("schema", block.where, f"no {kind} type {block.type}"))
                continue
            findings += _check_body(block.body, spec, block.where)
    declared = {(b.kind, b.type) for kind in ("resource", "data") for b in tree.blocks(kind)}
    for path, doc in tree.files.items():
        for data, type_, _name, attribute in ATTRIBUTE_REFERENCE.findall(text(doc)):
            kind = "data" if data else "resource"
            spec = schema[kind].get(type_)
            if (kind, type_) in declared and spec is not None and not _exports(spec, attribute):
                findings.append(
                    Finding("schema", path.name, f"{type_} exports no attribute {attribute}")
                )
    return findings

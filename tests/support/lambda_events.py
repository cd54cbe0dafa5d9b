"""Cognito trigger events as Cognito sends them (shapes from the AWS developer guide)."""

import copy
import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "events"


def event(name: str, **attributes: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    loaded = copy.deepcopy(loaded)
    loaded["request"]["userAttributes"].update(attributes)
    if "sub" in attributes:
        loaded["userName"] = attributes["sub"]
    return loaded

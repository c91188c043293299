"""Print the app's OpenAPI document (what `make openapi` commits to openapi/openapi.json)."""

from __future__ import annotations

import json
import sys
from typing import Any

import msgspec

from api.app import create_app


def document() -> dict[str, Any]:
    app = create_app()
    # msgspec knows how to encode the Structs that appear as defaults and examples.
    doc: dict[str, Any] = json.loads(msgspec.json.encode(app.openapi_schema.to_schema()))
    return doc


def render() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())

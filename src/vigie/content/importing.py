"""Import items from a JSON file in the editor API's shape (`vigie content load`, the demo)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from vigie.content import service
from vigie.content.schemas import ContentInSchema
from vigie.errors import Invalid, flatten_messages
from vigie.runtime import Runtime

SEED = Path(__file__).resolve().parents[1] / "seed" / "content.json"


def parse(text: str) -> list[dict[str, Any]]:
    """Validate a file: a JSON list of items, each as `POST /v1/admin/content` takes it."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise Invalid(f"Not JSON: {exc}") from None
    if not isinstance(raw, list):
        raise Invalid("The file must hold a JSON list of items.")
    try:
        documents: list[dict[str, Any]] = ContentInSchema(many=True).load(raw)
    except ValidationError as exc:
        errors = flatten_messages(exc.messages)
        detail = "; ".join(f"{e['field']}: {e['detail']}" for e in errors[:5])
        raise Invalid(f"Invalid items: {detail}", errors=errors) from None
    return documents


def load_file(runtime: Runtime, path: Path, *, publish: bool = True) -> dict[str, int]:
    documents = parse(path.read_text("utf-8"))
    with runtime.db.unit() as session:
        return service.load(session=session, documents=documents, publish_items=publish)


def load_seed(runtime: Runtime) -> dict[str, int]:
    """Import and publish the content shipped with Vigie (idempotent by key)."""
    return load_file(runtime, SEED)

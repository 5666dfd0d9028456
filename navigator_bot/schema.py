"""JSON Schema of the catalog files, for editors that check YAML as staff type."""

from __future__ import annotations

import json
from typing import Any

from .models import CatalogDocument


def catalog_json_schema() -> dict[str, Any]:
    """Return the JSON Schema that every catalog YAML file must satisfy."""
    schema = CatalogDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Aomori support navigator catalog file"
    return schema


def catalog_json_schema_text() -> str:
    """Return the catalog JSON Schema as indented JSON text."""
    return json.dumps(catalog_json_schema(), ensure_ascii=False, indent=2)

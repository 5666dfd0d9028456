"""`navigator-bot schema` prints a JSON Schema that accepts the shipped catalog and rejects mistakes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from navigator_bot.catalog import CHECKOUT_CATALOG


@pytest.fixture(scope="module")
def schema() -> dict:
    result = subprocess.run([sys.executable, "-m", "navigator_bot", "schema"], capture_output=True, text=True,
                            timeout=60, check=True)
    return json.loads(result.stdout)


def test_schema_is_a_valid_json_schema(schema: dict) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", sorted(CHECKOUT_CATALOG.glob("*.yaml")), ids=lambda p: p.name)
def test_schema_accepts_the_shipped_files(schema: dict, path: Path) -> None:
    jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)


def test_schema_rejects_an_unknown_field_and_a_bad_id(schema: dict) -> None:
    data = yaml.safe_load((CHECKOUT_CATALOG / "categories.yaml").read_text(encoding="utf-8"))
    data["categories"][0]["colour"] = "blue"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)
    data["categories"][0].pop("colour")
    data["categories"][0]["id"] = "Not A Slug"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)

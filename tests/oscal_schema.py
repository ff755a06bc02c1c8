"""Validation against the official OSCAL 1.2.1 assessment-results JSON schema (shipped as
test data), shared by every test that writes OSCAL: ``qgov scan --oscal`` and the audit
pack's ``assessment-results.json``."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema
import regex
from jsonschema import Draft7Validator
from jsonschema.exceptions import ValidationError

from tests.helpers import DATA

SCHEMA = json.loads((DATA / "schemas/oscal_assessment-results_schema.json").read_text())


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    """The schema's patterns are ECMA-262 with Unicode classes (``\\p{L}``, ``\\p{N}``)
    that Python's ``re`` lacks: run them with the ``regex`` module, with ``$`` meaning the
    end of the string as in ECMA-262 (Python's also matches before a final newline)."""
    if not validator.is_type(instance, "string"):
        return
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    if not regex.search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def validator() -> Draft7Validator:
    # date-time, uri and uri-reference are checked too (jsonschema's format-nongpl extra).
    cls = jsonschema.validators.extend(Draft7Validator, {"pattern": _pattern})
    return cls(SCHEMA, format_checker=Draft7Validator.FORMAT_CHECKER)  # type: ignore[no-any-return]


def schema_errors(doc: dict[str, Any]) -> list[str]:
    """Every way ``doc`` breaks the official schema (empty: valid)."""
    return [f"{list(e.absolute_path)}: {e.message[:200]}" for e in validator().iter_errors(doc)]

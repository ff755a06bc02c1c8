"""The lenient reading of policy files: same types as the governed job's, governance fields
optional, every problem named by file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from scanner.formats.errors import ParseError
from scanner.formats.yaml import load_all_with_lines
from scanner.governance.lenient import (
    LenientPolicy,
    PolicyFileError,
    document_kind,
    parse_policy,
    read_policy_file,
)
from scanner.governed.policy import OrgPolicy, load_policy
from tests.helpers import SAMPLES

SAMPLE = SAMPLES / "policy" / "org-policy.yaml"


def parsed(text: str) -> object:
    return parse_policy(load_all_with_lines(text)[0])


def test_every_section_of_the_strict_policy_is_known_to_the_lenient_one() -> None:
    # derived, not copied: a section added to OrgPolicy is accepted by scans at once
    assert set(LenientPolicy.model_fields) == set(OrgPolicy.model_fields)
    role = LenientPolicy.model_fields["roles"].annotation
    assert "LenientRole" in str(role)


def test_the_sample_policy_reads_the_same_both_ways() -> None:
    strict = load_policy(SAMPLE).policy
    lenient = read_policy_file(SAMPLE).view
    assert [r.name for r in lenient.roles or ()] == [r.name for r in strict.roles]
    assert [e.id for e in lenient.exceptions] == [e.id for e in strict.exceptions]
    assert lenient.roles is not None and lenient.roles[0].expires == strict.roles[0].expires


def test_required_fields_become_optional_defaults_stay() -> None:
    view = parsed("roles:\n  - name: r\n")
    assert isinstance(view, BaseModel)
    role = view.roles[0]  # type: ignore[attr-defined]
    assert (role.owner, role.expires, role.can_export) == (None, None, False)
    assert view.elevation.export_requires_approval is True  # type: ignore[attr-defined]


def test_cross_references_and_debug_rules_are_findings_not_errors() -> None:
    # the strict model refuses both; a scan reports them (QG-GOV-013) or ignores them
    parsed("identities:\n  - {subject: a, kind: human, issuer: nobody, roles: [ghost]}\n"
           "debug: {enabled: true}\n")


def test_field_validators_are_kept() -> None:
    view = parsed("roles:\n  - name: r\n    time_windows:\n      - {start: 07:30, end: '18:00'}\n")
    window = view.roles[0].time_windows[0]  # type: ignore[attr-defined]
    assert window.start.hour == 7 and window.start.minute == 30
    with pytest.raises(ParseError) as caught:
        parsed("roles:\n  - name: r\n    time_windows:\n      - {timezone: Mars/Olympus}\n")
    assert caught.value.line == 4 and "roles.0.time_windows.0.timezone" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"roles:\n  - name: r\n    owner: o\n    colour: red\n",
         "line 4: policy field 'roles.0.colour': unknown field"),
        (b"policy: {id: p, version: '1', owner: o, reviewed: 2026-02-30}\n",
         "line 1: field 'policy.reviewed': not a real date"),
        (b"projects:\n  - name: p\n    quota: {shots: many}\n", "line 3: policy field"),
        (b"roles: []\n---\nroles: []\n", "expected one YAML document, found 2"),
        (b"- just\n- a list\n", "expected a mapping at the top level"),
        (b"\xff\xfe", "not UTF-8 text"),
        (b"roles: [\n", "invalid YAML"),
    ],
)
def test_a_named_policy_that_cannot_be_used_is_a_clear_error(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(content)
    with pytest.raises(PolicyFileError) as caught:
        read_policy_file(path)
    message = str(caught.value)
    assert message.startswith(f"policy {path}") and expected in message, message
    assert "red" not in message and "many" not in message


def test_a_missing_policy_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="No such file"):
        read_policy_file(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("text", "path", "kind"),
    [
        ("roles:\n  - name: r\n    owner: o\n", "gov/policy.yaml", "policy"),
        ("policy: {id: x}\nroles: []\n", "gov/policy.yaml", "policy"),
        ("exceptions:\n  - {id: E, control: LOG-06}\n", "gov/register.yaml", "policy"),
        ("exceptions: []\n", ".qgov-exceptions.yaml", "exceptions"),
        ("roles:\n  - name: geerlingguy.java\n    version: 1.9.6\n", "requirements.yml", None),
        ("exceptions:\n  - ValueError\n", "lint.yaml", None),
    ],
)
def test_document_kind(text: str, path: str, kind: str | None) -> None:
    assert document_kind(load_all_with_lines(text)[0], path) == kind

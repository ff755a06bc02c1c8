"""Samples must not rot: `make demo` runs the governed job against the sample policy, so a
role, approval, revocation, vendor or certification date running out would break it on that
day. This test fails a year before any such date in samples/ is reached (dates already past
are deliberate examples of expired things, and stay expired)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import REPO

SAMPLES = REPO / "samples"
# Keys whose dates are deadlines of some kind (expires, expires_at, valid_until, not_after...).
EXPIRY_KEY = re.compile(
    r"expir|until|not_?after|valid_?to|deadline|renew|sunset|end_?date|retire|due|next_review",
    re.IGNORECASE,
)
DATE_TEXT = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
MARGIN = timedelta(days=365)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and (match := DATE_TEXT.match(value.strip())):
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            return None
    return None


def _dates(node: Any, path: str) -> Iterator[tuple[str, str, date]]:
    """``(path, key, date)`` for every date-valued entry below ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            found = _as_date(value)
            if found is not None:
                yield f"{path}.{key}", str(key), found
            else:
                yield from _dates(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _dates(item, f"{path}[{index}]")


_KEY_DATE_LINE = re.compile(r"^\s*-?\s*([\w.-]+)\s*:\s*['\"]?(\d{4}-\d{2}-\d{2})", re.MULTILINE)


def _documents(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        return [d for d in yaml.safe_load_all(text) if d]
    except yaml.YAMLError:
        # Templates and deliberately broken samples: read `key: date` lines as text instead.
        return [{m.group(1): m.group(2) for m in _KEY_DATE_LINE.finditer(text)}]


def deadlines(root: Path, today: date) -> list[tuple[str, date]]:
    """Expiry-like dates (by key) and every future date, in every YAML file under ``root``."""
    found = []
    for path in sorted([*root.rglob("*.yaml"), *root.rglob("*.yml")]):
        for n, document in enumerate(_documents(path)):
            for where, key, when in _dates(document, f"{path.relative_to(root)}#{n}"):
                if EXPIRY_KEY.search(key) or when > today:
                    found.append((where, when))
    return found


def test_no_sample_date_runs_out_within_a_year() -> None:
    today = datetime.now(UTC).date()
    found = deadlines(SAMPLES, today)
    assert any("org-policy.yaml" in where for where, _ in found)  # the scan sees the roles
    # A date already past is a deliberate example of something expired (an expired
    # certificate, role or exception the scan must report) and stays so; only a date still
    # ahead can run out and change what the samples show.
    soon = [f"{where}: {when}" for where, when in found if today <= when < today + MARGIN]
    assert soon == [], "sample dates run out within a year; move them further ahead"


def test_the_scan_finds_expiries_by_key_and_future_dates(tmp_path: Path) -> None:
    (tmp_path / "vendor.yml").write_text(
        "certifications:\n  - name: ISO 27001\n    valid_until: 2027-01-01\n"
        "policy:\n  reviewed: 2020-01-01\n  expires: '2026-12-31T00:00:00Z'\n"
        "contract: {renewal: 2031-05-01, signed: 2019-03-03}\n"
    )
    (tmp_path / "approvals.yaml").write_text("approvals:\n  - expires_at: 2030-01-01T09:00:00Z\n")
    (tmp_path / "chart.yaml").write_text(
        "name: {{ .Chart.Name }}\nnot_after: 2028-02-02\nbuilt: 2001-01-01\n"
    )
    found = dict(deadlines(tmp_path, date(2026, 1, 1)))
    assert found == {
        "approvals.yaml#0.approvals[0].expires_at": date(2030, 1, 1),
        "chart.yaml#0.not_after": date(2028, 2, 2),  # not YAML: read as text
        "vendor.yml#0.certifications[0].valid_until": date(2027, 1, 1),
        "vendor.yml#0.policy.expires": date(2026, 12, 31),
        "vendor.yml#0.contract.renewal": date(2031, 5, 1),
    }

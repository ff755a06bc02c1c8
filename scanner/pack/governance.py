"""The governance sections of an audit pack: the exceptions register (with each entry's state
on the pack's day), every suppression with its reason and expiry, the access review of the
organisation policy and the vendor assessments.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import cast

from scanner.catalog import Catalog
from scanner.governance import register
from scanner.governance.access_review import (
    AccessReview,
    LedgerActivity,
    ledger_activity,
    review_access,
)
from scanner.governance.lenient import PolicyFile, PolicyFileError, PolicyView, read_policy_file
from scanner.governed.canonical import sha256_hex
from scanner.governed.errors import LedgerError
from scanner.model import SuppressionKind, Tier, printable
from scanner.pack.model import (
    ExceptionEntry,
    ExceptionState,
    Problem,
    RepositorySection,
    SuppressionEntry,
    VendorSection,
)
from scanner.scan_info import display_path
from scanner.vendors.assess import assess_loaded
from scanner.vendors.compare import summarize
from scanner.vendors.profile_loader import ProfileError, load_profile

EXCEPTIONS_FILE_NAMES = (".qgov-exceptions.yaml", ".qgov-exceptions.yml")
_PROFILE_SUFFIXES = (".yaml", ".yml")


def register_files(policies: Iterable[Path], roots: Iterable[Path]) -> list[Path]:
    """The registers that applied: the policies given or configured, and the
    ``.qgov-exceptions.yaml`` at the top of each scanned folder; each file once."""
    found: dict[str, Path] = {}
    for path in policies:
        found.setdefault(os.path.realpath(path), path)
    for root in roots:
        if root.is_dir():
            for name in EXCEPTIONS_FILE_NAMES:
                candidate = root / name
                if candidate.is_file():
                    found.setdefault(os.path.realpath(candidate), candidate)
    return list(found.values())


def exception_entries(
    files: Sequence[Path],
    loaded: dict[str, PolicyFile],
    repositories: Sequence[RepositorySection],
    today: dt.date,
) -> tuple[list[ExceptionEntry], list[Problem]]:
    """Every entry of every register, with its state and the findings it covered.
    ``loaded`` holds policy files already read (by real path)."""
    covered = Counter(
        f.suppression.id
        for repository in repositories for f in repository.result.findings
        if f.suppression is not None and f.suppression.kind is SuppressionKind.EXCEPTION
        and f.suppression.id
    )
    entries: list[ExceptionEntry] = []
    problems: list[Problem] = []
    for path in files:
        shown = display_path(path)
        policy = loaded.get(os.path.realpath(path))
        if policy is None:
            try:
                policy = read_policy_file(path)
            except PolicyFileError as exc:
                problems.append(Problem(shown, f"the exceptions register cannot be read: {exc}"))
                continue
        for entry in policy.exceptions:
            missing = tuple(register.missing_fields(entry))
            state: ExceptionState = (
                "incomplete" if missing else "expired" if register.expired(entry, today)
                else "honoured"
            )
            scope = {name: tuple(printable(v) for v in getattr(entry.scope, name) or ())
                     for name in ("paths", "resources", "rules")
                     if getattr(entry.scope, name, None)}
            entries.append(ExceptionEntry(
                id=_text(entry.id),
                control=_text(entry.control),
                risk_owner=_text(entry.risk_owner),
                reason=_text(entry.reason),
                compensating_controls=tuple(printable(c, path=False)
                                            for c in entry.compensating_controls or ()),
                expires=entry.expires,
                ticket=_text(entry.ticket),
                scope=scope,
                register=shown,
                state=state,
                missing=missing,
                findings_covered=covered.get(entry.id, 0) if entry.id else 0,
            ))
    return entries, problems


def _text(value: str | None) -> str | None:
    return None if value is None else printable(str(value), path=False)


def suppression_entries(
    repositories: Sequence[RepositorySection], today: dt.date
) -> list[SuppressionEntry]:
    entries = []
    for repository in repositories:
        for finding in repository.result.findings:
            suppression = finding.suppression
            if suppression is None:
                continue
            entries.append(SuppressionEntry(
                repository=repository.name,
                rule_id=finding.rule_id,
                severity=finding.severity,
                path=finding.path,
                line=finding.line,
                fingerprint=finding.fingerprint,
                kind=suppression.kind,
                reason=suppression.reason,
                owner=suppression.owner,
                until=suppression.until,
                id=suppression.id,
                expired=_before(suppression.until, today),
            ))
    return entries


def _before(until: str | None, today: dt.date) -> bool:
    if not until:
        return False
    try:
        return dt.date.fromisoformat(until[:10]) < today
    except ValueError:
        return False


def access_review(
    policy: PolicyFile | None, ledger: Path | None, today: dt.date
) -> tuple[AccessReview | None, list[Problem]]:
    """The access review of the organisation policy, with activity from the ledger when
    one is given and readable."""
    if policy is None or policy.kind != "policy":
        return None, []
    problems: list[Problem] = []
    activity: LedgerActivity | None = None
    if ledger is not None:
        try:
            activity = ledger_activity(ledger)
        except (LedgerError, OSError) as exc:
            problems.append(Problem(display_path(ledger), "the access review could not read "
                                    f"activity from the ledger: {exc}"))
    view = cast(PolicyView, policy.view)
    info = view.policy
    review = review_access(
        view,
        policy_ref={
            "id": info.id if info else None,
            "version": info.version if info else None,
            "sha256": sha256_hex(policy.raw),
            "path": display_path(policy.path),
        },
        today=today,
        ledger=activity,
    )
    if review.ledger is not None:
        review.ledger.path = Path(display_path(review.ledger.path))
    return review, problems


def profile_paths(arguments: Iterable[Path]) -> list[Path]:
    """Vendor profiles: files as given, and the YAML files of folders."""
    paths: list[Path] = []
    for path in arguments:
        if path.is_dir():
            paths.extend(sorted(p for p in path.iterdir()
                                if p.suffix.lower() in _PROFILE_SUFFIXES and p.is_file()))
        else:
            paths.append(path)
    return paths


def vendor_sections(
    profiles: Sequence[Path], tier: Tier, today: dt.date, catalog: Catalog
) -> tuple[list[VendorSection], list[Problem]]:
    sections: list[VendorSection] = []
    problems: list[Problem] = []
    for path in profiles:
        shown = display_path(path)
        try:
            loaded = load_profile(path, label=shown)
        except ProfileError as exc:
            lines = str(exc).splitlines() or ["unusable"]
            more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
            problems.append(Problem(shown, f"vendor profile not assessed: {lines[0]}{more}"))
            continue
        assessment = assess_loaded(loaded, tier=tier, today=today, catalog=catalog)
        summary = summarize(assessment)
        sections.append(VendorSection(assessment=assessment, verdict=summary.verdict.value,
                                      score=summary.score, gaps=len(assessment.gaps),
                                      origin=shown))
    return sections, problems

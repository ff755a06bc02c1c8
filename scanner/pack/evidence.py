"""The evidence an audit pack carries beside the scans: attestations with their evidence
files, the governed job's self-test results and its audit ledger with its verification.

Each builder returns its ``PackData`` section plus the files to copy into the pack
(``FileCopy``: where from, where to, the SHA-256 it had when the section was built). The
writer copies them and refuses to finish the pack when a file no longer has that hash, so
the pack never holds evidence other than what the statuses rest on.

Damaged or unverifiable evidence is a ``Problem`` and a visible state in its section, never
silently left out.
"""

from __future__ import annotations

import datetime as dt
import os
import posixpath
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from scanner.governed.errors import GovernedError, LedgerError
from scanner.model import printable
from scanner.pack.model import (
    AttestationFileCopy,
    AttestationRecord,
    AttestationSection,
    LedgerSection,
    Problem,
    SelftestSection,
)
from scanner.scan_info import display_path
from scanner.status.attestations import MAX_EVIDENCE_BYTES, AttestationSet, hash_evidence
from scanner.status.selftest import SelftestEvidence

EVIDENCE_DIR = "evidence"
MAX_LEDGER_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True)
class FileCopy:
    """A file the writer copies into the pack, and the hash it must still have."""

    pack_path: str
    source: Path
    sha256: str | None  # None: copy whatever is there (its hash goes into the manifest)
    what: str  # for messages: "attestation evidence", "ledger" …
    max_bytes: int = MAX_EVIDENCE_BYTES


def safe_relative(path: str) -> str:
    """``path`` (as written in an input file) as a path that stays inside its pack folder:
    POSIX, normalised, ``..`` steps and a leading ``/`` turned into plain names."""
    normal = posixpath.normpath(path.replace("\\", "/"))
    parts = [part if part not in ("..", "") else "__" for part in normal.split("/")]
    cleaned = "/".join(p for p in parts if p != ".") or "_"
    return printable(cleaned.lstrip("/"))


# --- attestations ------------------------------------------------------------------------------


def attestation_section(
    attestations: AttestationSet, index: int, today: dt.date, repositories: tuple[str, ...]
) -> tuple[AttestationSection, list[FileCopy], list[Problem]]:
    """The ``index``-th attestations file of the pack (1-based), its records on ``today`` and
    the copies of the file and every evidence file that could be hashed."""
    base = f"{EVIDENCE_DIR}/attestations/{index}"
    shown = display_path(attestations.path)
    copies = [FileCopy(f"{base}/attestations.yaml", attestations.path, attestations.sha256,
                       "attestations file")]
    problems = [Problem(shown, note.removeprefix(f"{attestations.path}:"))
                for note in attestations.problems()]
    records = []
    for loaded in attestations.entries:
        files = []
        for evidence in loaded.evidence:
            pack_path = None
            if evidence.sha256 is not None:
                pack_path = f"{base}/files/{safe_relative(evidence.path)}"
                copies.append(FileCopy(pack_path, attestations.path.parent / evidence.path,
                                       evidence.sha256, "attestation evidence"))
            files.append(AttestationFileCopy(printable(evidence.path), pack_path,
                                             evidence.sha256, evidence.size, evidence.problem))
        state = loaded.state(today)
        records.append(AttestationRecord(
            attestation=loaded,
            current=state is None,
            state=state,
            lapsed=loaded.entry.next_review < today,
            files=tuple(files),
        ))
        if state is not None and loaded.entry.next_review < today and not loaded.problems:
            problems.append(Problem(shown, f"line {loaded.line}: the attestation for "
                                    f"{loaded.entry.control} lapsed on "
                                    f"{loaded.entry.next_review}"))
    section = AttestationSection(
        source=shown,
        repositories=repositories,
        sha256=attestations.sha256,
        pack_path=f"{base}/attestations.yaml",
        records=tuple(records),
        evidence_set=replace(attestations, path=Path(shown)),
    )
    return section, _unique(copies), problems


def _unique(copies: list[FileCopy]) -> list[FileCopy]:
    seen: dict[str, FileCopy] = {}
    for copy in copies:
        seen.setdefault(copy.pack_path, copy)
    return list(seen.values())


# --- self-test ---------------------------------------------------------------------------------

SELFTEST_PACK_PATH = f"{EVIDENCE_DIR}/selftest/selftest.json"


def selftest_section(
    evidence: SelftestEvidence | None, why_missing: str
) -> tuple[SelftestSection, list[FileCopy]]:
    if evidence is None:
        return SelftestSection(evidence=None, why_missing=why_missing), []
    shown = display_path(evidence.path)
    section = SelftestSection(
        evidence=replace(evidence, path=Path(shown)),
        why_missing=None,
        pack_path=SELFTEST_PACK_PATH,
        origin=shown,
        how="given",
    )
    return section, [FileCopy(SELFTEST_PACK_PATH, evidence.path, evidence.sha256,
                              "self-test evidence")]


# --- ledger ------------------------------------------------------------------------------------

LEDGER_DIR = f"{EVIDENCE_DIR}/ledger"
LEDGER_PACK_PATH = f"{LEDGER_DIR}/ledger.jsonl"
LEDGER_VERIFICATION = f"{LEDGER_DIR}/verification.json"
# What `qgov ledger metrics --format json` and `qgov ledger query --format csv` answer.
LEDGER_METRICS = f"{LEDGER_DIR}/metrics.json"
LEDGER_JOBS = f"{LEDGER_DIR}/jobs.csv"
# Files kept beside a ledger that verifying it reads: its public key copy and signed head.
_SIDECARS = (".pub", ".head")


def _governed_policy(policy: Path | None) -> Any:
    """The policy as the governed job loads it (its ledger key, quotas, exceptions), or None
    when none is given or the governed job cannot load it (then it names no key to trust)."""
    if policy is None:
        return None
    from scanner.governed.policy import load_policy

    try:
        return load_policy(policy)
    except (GovernedError, OSError):
        return None


def ledger_section(
    ledger: Path, *, public_key: Path | None, policy: Path | None, as_of: dt.datetime
) -> tuple[LedgerSection, list[FileCopy], list[Problem]]:
    """Verify ``ledger`` (anchored on ``public_key`` or the policy's ledger key when given)
    and plan its copy; a ledger that cannot be read or fails verification is a problem.
    A ledger that verified is answered from as ``qgov ledger metrics`` and ``query`` do,
    at ``as_of`` (the pack's time); one that did not is not answered from at all."""
    from scanner.evidence import verify

    shown = display_path(ledger)
    hashed = hash_evidence(ledger.parent, ledger.name)
    if hashed.sha256 is None:
        message = f"the ledger cannot be read: {hashed.problem}"
        return (LedgerSection(origin=shown, pack_path=None, verdict="UNREADABLE", intact=False,
                              verification={}, problems=(message,),
                              answers_withheld=_WITHHELD_UNREADABLE),
                [], [Problem(shown, message)])
    loaded = _governed_policy(policy)
    settings = loaded.policy.ledger if loaded is not None else None
    try:
        verification = verify(
            ledger,
            public_key=public_key,
            policy_public_key=settings.public_key if settings else None,
            policy_signing_key=Path(settings.signing_key) if settings and settings.signing_key
            else None,
        )
    except (LedgerError, OSError) as exc:
        message = f"the ledger cannot be verified: {printable(str(exc), path=False)}"
        section = LedgerSection(origin=shown, pack_path=LEDGER_PACK_PATH, verdict="UNREADABLE",
                                intact=False, verification={}, problems=(message,),
                                answers_withheld=_WITHHELD_UNREADABLE)
        return section, [FileCopy(LEDGER_PACK_PATH, ledger, hashed.sha256, "ledger",
                                  MAX_LEDGER_BYTES)], [Problem(shown, message)]
    report = verification.report
    verification_json = _shown_paths(report.to_json(), ledger, shown)
    problems_text = tuple(f"{p.kind}: {p.message}" for p in report.problems)
    copies = [FileCopy(LEDGER_PACK_PATH, ledger, hashed.sha256, "ledger", MAX_LEDGER_BYTES)]
    for suffix in _SIDECARS:
        sidecar = ledger.with_name(ledger.name + suffix)
        side = hash_evidence(sidecar.parent, sidecar.name)
        if side.sha256 is not None:
            copies.append(FileCopy(LEDGER_PACK_PATH + suffix, sidecar, side.sha256,
                                   "ledger " + suffix.lstrip(".")))
    problems = [] if report.intact else [
        Problem(shown, f"the ledger failed verification ({report.verdict}): "
                + "; ".join(problems_text[:3]))
    ]
    if report.intact and not report.anchor.anchored:
        problems.append(Problem(shown, "the ledger's signatures were checked only against the "
                                "key kept beside it, which proves nothing: pass --ledger-key "
                                "or a policy naming ledger.public_key"))
    section = LedgerSection(
        origin=shown,
        pack_path=LEDGER_PACK_PATH,
        verdict=report.verdict,
        intact=report.intact,
        verification=verification_json,
        problems=problems_text,
        proven=tuple(report.proven()),
        not_proven=tuple(report.not_proven()),
        extra_files=(LEDGER_VERIFICATION,),
    )
    section, withheld = _answers(section, verification, loaded, as_of, ledger, shown)
    if withheld is not None and report.intact:  # verified, then changed while it was read
        problems.append(Problem(shown, withheld))
    return section, copies, problems


_WITHHELD_UNREADABLE = ("no metrics and no jobs: the ledger could not be read or verified, "
                        "so nothing is answered from it")


def _answers(
    section: LedgerSection, verification: Any, loaded: Any, as_of: dt.datetime, ledger: Path,
    shown: str,
) -> tuple[LedgerSection, str | None]:
    """The section with ``qgov ledger metrics`` and ``query`` answers from a verified ledger
    (the same functions, the same JSON and CSV), or with why there are none. Like those
    commands without ``--unverified``, nothing is answered from a ledger that failed
    verification or changed while it was read: no number from it is shown as fact."""
    from scanner.evidence import metrics, query
    from scanner.evidence.render import query_csv

    if not verification.intact:
        return replace(section, answers_withheld=(
            f"no metrics and no jobs: the ledger failed verification "
            f"({verification.report.verdict}), so nothing is answered from it, as "
            "'qgov ledger metrics' and 'qgov ledger query' refuse to (their --unverified "
            "answers anyway, flagged, for forensics)")), None
    telemetry = metrics(verification, policy=loaded.policy if loaded else None,
                        policy_ref=loaded.ref if loaded else None, as_of=as_of)
    jobs = query(verification, as_of=as_of)
    if not (telemetry.intact and jobs.intact):
        warning = telemetry.warning() or jobs.warning() or "it changed while it was read"
        return replace(section, answers_withheld=f"no metrics and no jobs: {warning}"), warning
    answered = _shown_paths(jobs.to_json(), ledger, shown)
    return replace(
        section,
        metrics=_shown_paths(telemetry.to_json(), ledger, shown),
        jobs=tuple(answered["jobs"]),
        jobs_csv=query_csv(jobs),
        extra_files=(*section.extra_files, LEDGER_METRICS, LEDGER_JOBS),
    ), None


def _shown_paths(value: Any, ledger: Path, shown: str) -> Any:
    """The verification report with the machine's paths shown as elsewhere in the pack: the
    ledger as given, its folder likewise, the home folder as ``~``."""
    if isinstance(value, dict):
        return {key: _shown_paths(item, ledger, shown) for key, item in value.items()}
    if isinstance(value, list):
        return [_shown_paths(item, ledger, shown) for item in value]
    if isinstance(value, str):
        home = os.path.expanduser("~")
        value = value.replace(str(ledger), shown).replace(str(ledger.parent),
                                                          display_path(ledger.parent))
        if home not in ("", "/"):
            value = value.replace(home + "/", "~/")
    return value

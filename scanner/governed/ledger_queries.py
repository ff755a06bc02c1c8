"""Questions the identity and approval checks ask of the ledger's events.

The ledger already records every decision, so it is the memory for "was this token used
before?", "was this approval granted, and used?" and "what did this identity do?". These
functions only read events (as :meth:`LedgerSession.events` returns them under the lock, or
:func:`read_events` without it); writing and verifying stay in :mod:`.ledger`.

Lookbacks are bounded: a token can only be used while it is valid, so a search for its earlier
use walks back from the newest event and stops at the first event older than the longest
token lifetime the policy allows.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.errors import LedgerError
from scanner.governed.timeutil import parse_iso

GENESIS = "ledger.genesis"
APPROVAL_GRANTED = "approval.granted"
APPROVAL_REFUSED = "approval.refused"
# Events that use an approval when they allow something, and the field naming it.
APPROVAL_USES = ("job.decision", "result.export", "debug.mode")


def read_events(path: Path) -> list[dict[str, Any]]:
    """The ledger's events without taking its lock: a line still being written (no newline
    yet) is left out. For reads that need not be atomic with a write."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise LedgerError(f"ledger {path}: cannot read: {exc.strerror or exc}") from exc
    complete = data[: data.rfind(b"\n") + 1]
    events = []
    for number, raw in enumerate(complete.splitlines(), 1):
        try:
            event = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise LedgerError(f"ledger {path}: line {number} is not a JSON event") from exc
        if isinstance(event, dict):
            events.append(event)
    return events


def _moment(event: dict[str, Any]) -> datetime | None:
    try:
        return parse_iso(str(event.get("ts")))
    except ValueError:
        return None


def since(events: list[dict[str, Any]], start: datetime) -> Iterator[dict[str, Any]]:
    """Events newer than ``start``, newest first; stops at the first older one (events are
    appended in time order under the ledger lock)."""
    for event in reversed(events):
        moment = _moment(event)
        if moment is not None and moment < start:
            return
        yield event


def earlier_token_use(
    events: list[dict[str, Any]],
    *,
    issuer: str,
    jti_sha256: str | None,
    token_sha256: str,
    start: datetime,
) -> dict[str, Any] | None:
    """The newest event since ``start`` in which this token was accepted: same issuer and
    ``jti`` (or, for a token without one, the same token hash)."""
    for event in since(events, start):
        actor = event.get("actor")
        if not isinstance(actor, dict) or actor.get("verified") is False:
            continue
        if actor.get("accepted") is False or actor.get("issuer") != issuer:
            continue
        if jti_sha256 is not None:
            if actor.get("token_jti_sha256") == jti_sha256:
                return event
        elif actor.get("token_sha256") == token_sha256:
            return event
    return None


def approval_grants(events: list[dict[str, Any]], approval_id: str) -> list[dict[str, Any]]:
    """Every ``approval.granted`` event for ``approval_id``, oldest first."""
    found = []
    for event in events:
        if event.get("type") != APPROVAL_GRANTED:
            continue
        body = (event.get("data") or {}).get("approval")
        if isinstance(body, dict) and body.get("id") == approval_id:
            found.append(event)
    return found


def approval_uses(events: list[dict[str, Any]], approval_id: str) -> list[dict[str, Any]]:
    """Allowed requests that cited ``approval_id`` (each one used it)."""
    return [
        event
        for event in events
        if event.get("type") in APPROVAL_USES
        and event.get("decision") == "allow"
        and (event.get("data") or {}).get("approval") == approval_id
    ]


def genesis_key(events: list[dict[str, Any]]) -> ed25519.Ed25519PublicKey | None:
    """The checkpoint key the ledger's genesis event declares (it signs approvals too)."""
    if not events or events[0].get("type") != GENESIS:
        return None
    encoded = (events[0].get("data") or {}).get("checkpoint_public_key")
    if not isinstance(encoded, str):
        return None
    try:
        return ed25519.Ed25519PublicKey.from_public_bytes(base64.b64decode(encoded, validate=True))
    except (ValueError, binascii.Error):
        return None


def subject_events(events: list[dict[str, Any]], subject: str) -> list[dict[str, Any]]:
    """Every event whose actor is (or claimed to be) ``subject``."""
    return [
        event
        for event in events
        if isinstance(event.get("actor"), dict) and event["actor"].get("subject") == subject
    ]


def jobs_of(events: list[dict[str, Any]], subject: str) -> list[dict[str, Any]]:
    """What ``subject`` did, one entry per job (and per approval): when, what was asked,
    what was decided, and whether it ran -- the list an incident responder starts from."""
    jobs: dict[str, dict[str, Any]] = {}
    for event in subject_events(events, subject):
        kind = str(event.get("type"))
        subject_fields = event.get("subject") or {}
        key = str(
            subject_fields.get("job_id") or subject_fields.get("approval_id") or event.get("id")
        )
        entry = jobs.setdefault(
            key,
            {
                "job_id": subject_fields.get("job_id"),
                "first_seen": event.get("ts"),
                "verified": event["actor"].get("verified") is not False,
                "events": [],
            },
        )
        entry["events"].append(
            {"seq": event.get("seq"), "type": kind, "decision": event.get("decision")}
        )
        for field in ("job_name", "project", "environment", "backend", "approval_id"):
            if field in subject_fields:
                entry[field] = subject_fields[field]
        if kind == "job.decision":
            entry["decision"] = event.get("decision")
            reasons = (event.get("data") or {}).get("reasons", [])
            entry["reasons"] = [r.get("code") for r in reasons]
        if kind in ("job.executed", "job.failed"):
            entry["ran"] = True
            entry["record_id"] = (event.get("data") or {}).get("record_id")
        if kind == "result.export":
            entry["export"] = event.get("decision")
    return list(jobs.values())

"""Signature checks of a ledger: the trust anchor, checkpoints, the signed head and coverage.

:func:`resolve_anchor` picks the key signatures are checked against (strongest source first,
see :mod:`.verify`); :func:`check_checkpoint` and :func:`check_signed_head` verify each signed
claim against that key and the stored hashes; :func:`check_coverage` fails a ledger whose last
event no valid signature covers. Each adds what it finds to the :class:`VerifyReport`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scanner.governed.errors import LedgerError
from scanner.governed.ledger.format import (
    CHECKPOINT_PAYLOAD,
    FORMAT_V1,
    HEAD_PAYLOAD,
    LineError,
    b64,
    checkpoint_payload,
    head_payload,
    load_signing_key,
    parse_strict,
    public_key_from_pem,
    raw_public,
    read_key_file,
    read_small,
    sidecar,
    signature_valid,
    signed_payload,
    stored_key_path,
    stored_public_path,
)
from scanner.governed.ledger.report import Problem, TrustAnchor, VerifyReport


def resolve_anchor(
    path: Path,
    ledger_id: str | None,
    *,
    public_key: Path | None = None,
    policy_public_key: str | None = None,
    policy_signing_key: Path | None = None,
) -> TrustAnchor:
    """The key signatures are checked against, strongest source first (see the module doc)."""
    if public_key is not None:
        key = public_key_from_pem(read_key_file(public_key, "public key"), str(public_key))
        return TrustAnchor(key, "public-key", str(public_key))
    if policy_public_key:
        if "BEGIN PUBLIC KEY" in policy_public_key:
            key = public_key_from_pem(policy_public_key.encode("ascii", "replace"), "policy")
            return TrustAnchor(key, "policy-public-key", "policy ledger.public_key (PEM)")
        where = Path(policy_public_key)
        data = read_key_file(where, "public key")
        return TrustAnchor(public_key_from_pem(data, str(where)), "policy-public-key", str(where))
    if policy_signing_key is not None:
        private = load_signing_key(policy_signing_key)
        return TrustAnchor(
            private.public_key(), "policy-signing-key", f"public half of {policy_signing_key}"
        )
    if ledger_id is not None:
        stored_pub: Path | None = None
        stored_key: Path | None = None
        try:
            stored_pub, stored_key = stored_public_path(ledger_id), stored_key_path(ledger_id)
        except LedgerError:
            pass  # not a UUID: the genesis was tampered with; no key store entry to look up
        if stored_pub is not None and stored_pub.exists():
            key = public_key_from_pem(read_key_file(stored_pub, "public key"), str(stored_pub))
            return TrustAnchor(key, "key-store", str(stored_pub))
        if stored_key is not None and stored_key.exists():
            private = load_signing_key(stored_key)
            return TrustAnchor(private.public_key(), "key-store", f"public half of {stored_key}")
    copy = sidecar(path, ".pub")
    beside = read_small(copy, "ledger public key")
    if beside is None:
        return TrustAnchor(None, "none", "-")
    return TrustAnchor(public_key_from_pem(beside, str(copy)), "sidecar", str(copy))


def _signature_version(label: object, report: VerifyReport, v2_label: str) -> str | None:
    """'v2' for a v2-labelled signature, 'v1' for an unlabelled one in a v1 ledger, else None."""
    if label == v2_label:
        return "v2"
    if label is None and report.format == FORMAT_V1:
        return "v1"
    return None


def check_checkpoint(
    event: dict[str, Any],
    number: int,
    seq: int | None,
    hashes: dict[int, str],
    report: VerifyReport,
) -> None:
    report.checkpoints += 1
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    covers = (data or {}).get("covers")
    covers = covers if isinstance(covers, dict) else {}
    covered_seq, covered_hash = covers.get("seq"), covers.get("hash")
    ledger_id = report.ledger_id
    if (
        not isinstance(covered_seq, int)
        or isinstance(covered_seq, bool)
        or not isinstance(covered_hash, str)
        or ledger_id is None
        or seq is None
    ):
        report.problems.append(Problem("bad-checkpoint", "malformed checkpoint", number, seq))
        return
    trusted = report.anchor.key
    data = data or {}
    if trusted is not None and data.get("public_key") != b64(raw_public(trusted)):
        report.problems.append(
            Problem(
                "checkpoint-foreign-key",
                "checkpoint signed with a key other than the trusted ledger key",
                number,
                seq,
            )
        )
    version = _signature_version(data.get("payload"), report, CHECKPOINT_PAYLOAD)
    if version == "v2":
        payload = checkpoint_payload(ledger_id, covered_seq, covered_hash)
    else:
        payload = signed_payload(ledger_id, covered_seq, covered_hash)
    if version is None or not signature_valid(trusted, data.get("signature"), payload):
        why = (
            "carries no v2 checkpoint label in a v2 ledger"
            if version is None
            else "does not verify with the trusted public key"
        )
        report.problems.append(
            Problem("checkpoint-signature-invalid", f"checkpoint signature {why}", number, seq)
        )
        return
    if hashes.get(covered_seq) != covered_hash:
        report.problems.append(
            Problem(
                "checkpoint-mismatch",
                f"signed checkpoint covers seq {covered_seq}, whose stored hash differs: events "
                f"up to seq {covered_seq} were rewritten",
                number,
                seq,
            )
        )
        return
    report.signature_versions.add(version)
    report.checkpoints_verified += 1
    report.last_checkpoint_seq = covered_seq
    # The checkpoint's signed claim is its content: next to the events before it, it covers
    # itself when it follows the event it signs (as qgov writes it).
    reach = seq if covered_seq == seq - 1 else covered_seq
    report.signed_through = max(report.signed_through or -1, reach)


def head_signature_ok(head: dict[str, Any], report: VerifyReport) -> bool:
    seq, hash_ = head.get("seq"), head.get("hash")
    assert isinstance(seq, int) and isinstance(hash_, str)
    version = _signature_version(head.get("payload"), report, HEAD_PAYLOAD)
    ledger_id = str(head.get("ledger_id"))
    if version == "v2":
        payload = head_payload(ledger_id, seq, hash_, str(head.get("signed_at")))
    elif version == "v1":
        payload = signed_payload(ledger_id, seq, hash_)
    else:
        return False
    if not signature_valid(report.anchor.key, head.get("signature"), payload):
        return False
    report.signature_versions.add(version)
    return True


def check_signed_head(
    path: Path, head_file: Path | None, hashes: dict[int, str], report: VerifyReport
) -> None:
    candidate = head_file or sidecar(path, ".head")
    try:
        raw = read_small(candidate, "signed head")
    except LedgerError as exc:
        report.head_status = "invalid"
        report.problems.append(Problem("head-unreadable", str(exc)))
        return
    if raw is None:
        report.notes.append(
            f"no signed head file ({candidate.name}): events cut off after the last checkpoint "
            "cannot be detected without --witness, --min-seq or --head"
        )
        return
    report.head_status = "invalid"
    try:
        head = parse_strict(raw.removesuffix(b"\n"))
    except LineError as exc:
        report.problems.append(
            Problem("head-unreadable", f"{candidate} is not a signed head ({exc.message})")
        )
        return
    seq, hash_ = head.get("seq"), head.get("hash")
    if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(hash_, str):
        report.problems.append(Problem("head-unreadable", f"{candidate} is not a signed head"))
        return
    if not head_signature_ok(head, report):
        report.problems.append(
            Problem(
                "head-signature-invalid",
                "the signed head's signature does not verify as a head (a forged head, or a "
                "checkpoint's signature presented as one)",
            )
        )
        return
    if head.get("ledger_id") != report.ledger_id:
        report.problems.append(
            Problem("head-mismatch", "the signed head belongs to a different ledger")
        )
        return
    report.signed_head_seq = seq
    last = report.last_seq if report.last_seq is not None else -1
    if seq > last:
        report.problems.append(
            Problem(
                "truncated",
                f"the signed head records seq {seq} but the ledger ends at seq {last}: "
                f"{seq - last} event(s) were cut off the end",
                seq=last + 1,
            )
        )
    elif hashes.get(seq) != hash_:
        report.problems.append(
            Problem(
                "head-mismatch",
                f"event seq {seq} differs from the signed head (rewritten)",
                seq=seq,
            )
        )
    else:
        report.head_status = "verified"
        report.signed_through = max(report.signed_through or -1, seq)


def check_coverage(report: VerifyReport) -> None:
    """Not intact unless a valid signature covers the last event."""
    if report.last_seq is None or report.anchor.key is None:
        return
    if report.signed_through is None:
        report.problems.append(
            Problem(
                "unsigned",
                "no valid signed checkpoint or head covers any event: nothing in this ledger "
                "is proven to come from the ledger key (rewritten with the checkpoints and "
                "head removed?)",
            )
        )
    elif report.signed_through < report.last_seq:
        first = report.signed_through + 1
        report.problems.append(
            Problem(
                "unsigned-events",
                f"{report.last_seq - report.signed_through} event(s) from seq {first} on carry "
                f"no valid signature (the last signed one is seq {report.signed_through}): "
                "appended outside qgov, rewritten, or a writer stopped before signing",
                seq=first,
            )
        )

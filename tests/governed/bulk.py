"""Big ledgers for the streaming tests, written line by line without the writer's fsync per
event: the same canonical lines, chain, checkpoints and signed head the writer produces."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.canonical import canonical_json
from scanner.governed.ledger.format import (
    CANONICALIZATION,
    CHECKPOINT,
    CHECKPOINT_PAYLOAD,
    FORMAT,
    GENESIS,
    GENESIS_PREV,
    HEAD_PAYLOAD,
    b64,
    checkpoint_payload,
    event_hash,
    key_id,
    public_pem,
    raw_public,
    sign,
)
from scanner.governed.ledger.witness import signed_head
from scanner.governed.timeutil import iso_z

START = datetime(2026, 10, 1, tzinfo=UTC)
POLICY = {"id": "bulk", "version": "1", "sha256": "ab" * 32}
SOURCE = {"channel": "bulk", "host": "h", "os_user": "u", "pid": 1, "label": None}


def job_events(n: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """The events of ``n`` jobs, as the governed path writes them: even jobs allowed and run,
    odd ones refused; one subject in seven is carol, the rest spread over 50 subjects."""
    for j in range(n):
        job_id = str(uuid.UUID(int=j + 1))
        subject_name = "carol@bulk.invalid" if j % 7 == 0 else f"user{j % 50}@bulk.invalid"
        actor = {"subject": subject_name, "kind": "human", "issuer": "bulk-idp",
                 "token_sha256": f"{j:064x}", "token_jti_sha256": f"{j + 1:064x}"}
        allowed = j % 2 == 0
        subject = {
            "job_id": job_id, "job_name": f"job-{j}", "project": f"p{j % 4}",
            "environment": "dev", "backend": "aer_sim" if j % 3 else "ibm_fake", "shots": 100,
            "spec_sha256": "cd" * 32,
            "circuit": {"hash_format": "openqasm3-text", "sha256": "ef" * 32,
                        "source_format": "openqasm2", "source_sha256": "9a" * 32,
                        "source_bytes": 232, "num_qubits": 2, "num_clbits": 2, "depth": 3,
                        "size": 4, "ops": {"cx": 1, "h": 1, "measure": 2}},
            "dataset": {"name": "features", "version": "1", "classification": "synthetic",
                        "sha256": "12" * 32},
        }
        reasons = [] if allowed else [{"code": "ROLE_EXPIRED", "message": "role expired",
                                       "control_ids": ["GOV-01", "IAM-05"]}]
        yield "identity.verified", {"actor": actor, "decision": "allow",
                                    "subject": {"job_id": job_id, "environment": "dev"},
                                    "data": {"token_sha256": f"{j:064x}", "reasons": []}}
        yield "job.decision", {
            "actor": actor, "decision": "allow" if allowed else "deny", "subject": subject,
            "data": {"decision_id": str(uuid.UUID(int=10**9 + j)), "action": "job.submit",
                     "reasons": reasons, "approval": None,
                     "charge": {"shots": 100 if allowed else 0, "cost_units": 1 if allowed else 0},
                     "usage_before": {"shots": 100 * j, "cost_units": j, "jobs": j},
                     "data_gate": {"name": "features", "version": "1",
                                   "actual_sha256": "12" * 32, "declared_sha256": "12" * 32,
                                   "classification": "synthetic", "size_bytes": 227,
                                   "declared_classification": "synthetic",
                                   "registry": {"id": "features", "version": "1",
                                                "classification": "synthetic",
                                                "owner": "data-owner@bulk.invalid"}}},
        }
        if allowed:
            yield "job.executed", {
                "actor": actor, "decision": "completed",
                "subject": {"job_id": job_id, "job_name": f"job-{j}", "project": f"p{j % 4}"},
                "data": {"record_id": job_id, "record_sha256": "34" * 32,
                         "counts_sha256": "56" * 32, "backend": subject["backend"],
                         "timings_ms": {"total": 40}},
            }


def write_ledger(
    path: Path,
    events: Iterator[tuple[str, dict[str, Any]]],
    *,
    every: int = 500,
    step: timedelta = timedelta(seconds=1),
) -> ed25519.Ed25519PrivateKey:
    """Write ``events`` as a signed ledger (checkpoints every ``every`` events, a signed head,
    the public key beside it); returns the signing key."""
    key = ed25519.Ed25519PrivateKey.generate()
    ledger_id = str(uuid.uuid4())
    public = key.public_key()
    seq, prev, moment, since = 0, GENESIS_PREV, START, 0
    with path.open("wb") as handle:

        def put(kind: str, fields: dict[str, Any], event_id: str | None = None) -> None:
            nonlocal seq, prev
            body: dict[str, Any] = {
                "v": 1, "seq": seq, "prev": prev, "ts": iso_z(moment),
                "id": event_id or str(uuid.uuid4()), "type": kind,
                "actor": fields.get("actor"), "source": fields.get("source", SOURCE),
                "policy": fields.get("policy", POLICY), "decision": fields.get("decision"),
                "subject": fields.get("subject") or {}, "data": fields.get("data") or {},
            }
            body["hash"] = event_hash(body)
            handle.write(canonical_json(body) + b"\n")
            seq, prev = seq + 1, body["hash"]

        def checkpoint() -> None:
            covers = {"seq": seq - 1, "hash": prev}
            put(CHECKPOINT, {"source": None, "policy": None, "subject": {"ledger_id": ledger_id},
                             "data": {"covers": covers, "key_id": key_id(public),
                                      "public_key": b64(raw_public(public)),
                                      "algorithm": "Ed25519", "payload": CHECKPOINT_PAYLOAD,
                                      "signature": sign(key, checkpoint_payload(
                                          ledger_id, covers["seq"], covers["hash"]))}})

        put(GENESIS, {"policy": None, "data": {
            "format": FORMAT, "hash_algorithm": "sha256", "canonicalization": CANONICALIZATION,
            "checkpoint_key_id": key_id(public), "checkpoint_public_key": b64(raw_public(public)),
            "checkpoint_every": every, "signed_payloads": [CHECKPOINT_PAYLOAD, HEAD_PAYLOAD]}},
            event_id=ledger_id)
        for kind, fields in events:
            moment += step
            put(kind, fields)
            since += 1
            if since >= every:
                checkpoint()
                since = 0
        if since:
            checkpoint()
    head = signed_head(key, ledger_id=ledger_id, seq=seq - 1, hash_=prev,
                       signed_at=iso_z(moment), ledger=path)
    Path(f"{path}.head").write_bytes(canonical_json(head) + b"\n")
    Path(f"{path}.pub").write_bytes(public_pem(key))
    return key

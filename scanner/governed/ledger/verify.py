"""Verifying a ledger: exact bytes, chain, sequence, signatures, signed coverage and anchors.

Every edited, deleted, inserted, reordered, re-encoded or truncated event is reported as a
:class:`Problem` with its line and sequence number; nothing is repaired. Beyond "the chain is
consistent", the report says what was *proven*:

- **signed coverage** -- the events up to the newest valid checkpoint or signed head. A ledger
  whose last event no valid signature covers is not intact: a rewrite that recomputes the
  chain and drops the checkpoints would otherwise pass.
- **the trust anchor** -- which public key the signatures were checked against. In order:
  ``--public-key``, the policy's ``ledger.public_key``, the public half of the policy's
  ``ledger.signing_key``, the user's key store (``$XDG_CONFIG_HOME/qgov/keys/<id>.pub``),
  and last the ``<ledger>.pub`` copy beside the ledger. That copy is no anchor at all (whoever
  can write the folder can replace it and re-sign everything), so a ledger checked only
  against it is "intact, unanchored", and ``--strict`` fails it.
- **freshness** -- whether this is the newest copy. Only something kept outside the ledger
  can say: heads in a witness file (``--witness``), a sequence number the ledger must reach
  (``--min-seq``) or a hash it must contain (``--head``).

:func:`verify_ledger` runs the checks in order: the line and event checks (:mod:`.chain`), the
signed head and coverage (:mod:`.signatures`), the witness (:mod:`.witness`), then the minimum
sequence and external head hash; the findings go into a :class:`.report.VerifyReport`.
"""

from __future__ import annotations

import os
from pathlib import Path

from scanner.governed.errors import LedgerError
from scanner.governed.ledger.chain import lenient, walk
from scanner.governed.ledger.format import (
    GENESIS,
    check_regular,
    read_first_line,
    sidecar,
    stored_key_path,
)
from scanner.governed.ledger.report import Problem, VerifyReport
from scanner.governed.ledger.signatures import check_coverage, check_signed_head, resolve_anchor
from scanner.governed.ledger.witness import check_witness


def verify_ledger(
    path: Path,
    *,
    public_key: Path | None = None,
    policy_public_key: str | None = None,
    policy_signing_key: Path | None = None,
    head: str | None = None,
    head_file: Path | None = None,
    witness: Path | None = None,
    min_seq: int | None = None,
) -> VerifyReport:
    """Check the ledger's bytes, chain, signatures and coverage, and whatever outside anchors
    are given (witness, minimum sequence, external head hash)."""
    report = VerifyReport(path=path, witness=witness, min_seq=min_seq)
    check_regular(path, "ledger", may_be_missing=False)
    genesis = lenient(read_first_line(path) or b"")
    ledger_id = str(genesis.get("id")) if genesis and genesis.get("type") == GENESIS else None
    report.anchor = resolve_anchor(
        path,
        ledger_id,
        public_key=public_key,
        policy_public_key=policy_public_key,
        policy_signing_key=policy_signing_key,
    )
    if report.anchor.key is None:
        report.problems.append(
            Problem(
                "no-trust-anchor",
                f"no public key to check signatures against ({sidecar(path, '.pub')} is "
                "missing); pass --public-key with the key kept outside the ledger",
            )
        )
    legacy_key = sidecar(path, ".key")
    if os.path.lexists(legacy_key) and ledger_id is not None:
        report.notes.append(
            f"a signing key lies beside the ledger ({legacy_key}, the v1 layout): whoever can "
            "read that folder can sign as the ledger -- move it to "
            f"{_stored_hint(ledger_id)} or name it with the policy's ledger.signing_key"
        )
    hashes = walk(path, report)
    if report.events == 0:
        report.problems.append(Problem("empty", "the ledger holds no events"))
        return report
    check_signed_head(path, head_file, hashes, report)
    check_coverage(report)
    if witness is not None:
        check_witness(path, witness, hashes, report)
    if min_seq is not None and (report.last_seq is None or report.last_seq < min_seq):
        report.problems.append(
            Problem(
                "below-min-seq",
                f"the ledger ends at seq {report.last_seq} but must reach seq {min_seq}: "
                "events were cut off or an older copy was restored",
            )
        )
    if head is not None:
        report.external_head = True
        if head.lower() not in hashes.values():
            report.problems.append(
                Problem(
                    "external-head-missing",
                    "the externally kept head hash is not in the ledger: events were cut off "
                    "the end or the ledger was rewritten",
                )
            )
    return report


def _stored_hint(ledger_id: str) -> str:
    try:
        return str(stored_key_path(ledger_id))
    except LedgerError:
        return "the key store"

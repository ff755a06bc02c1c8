"""What verifying a ledger found: the :class:`VerifyReport`, its :class:`Problem` list and the
:class:`TrustAnchor` the signatures were checked against.

The report gives the verdict (``TAMPERED``, ``INTACT`` or ``INTACT`` with qualifiers:
unanchored, no signed head, v1 signatures), says what was proven and what was not, and
renders itself as JSON for ``qgov ledger verify --format json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.ledger.format import key_id

# Anchor kinds, strongest first; "sidecar" is the copy beside the ledger (no anchor).
ANCHORED = ("public-key", "policy-public-key", "policy-signing-key", "key-store")


@dataclass(frozen=True)
class Problem:
    kind: str
    message: str
    line: int | None = None
    seq: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "line": self.line, "seq": self.seq, "message": self.message}


@dataclass(frozen=True)
class TrustAnchor:
    key: ed25519.Ed25519PublicKey | None
    kind: str  # one of ANCHORED, "sidecar" or "none"
    source: str

    @property
    def anchored(self) -> bool:
        return self.kind in ANCHORED and self.key is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "source": self.source,
            "anchored": self.anchored,
            "key_id": key_id(self.key) if self.key is not None else None,
        }


@dataclass
class VerifyReport:
    path: Path
    format: str | None = None
    ledger_id: str | None = None
    events: int = 0
    last_seq: int | None = None
    head_hash: str | None = None
    checkpoints: int = 0
    checkpoints_verified: int = 0
    last_checkpoint_seq: int | None = None
    signed_head_seq: int | None = None
    head_status: str = "missing"  # verified | missing | invalid
    signed_through: int | None = None
    signature_versions: set[str] = field(default_factory=set)
    anchor: TrustAnchor = TrustAnchor(None, "none", "-")
    witness: Path | None = None
    witness_heads: int = 0
    witness_latest_seq: int | None = None
    min_seq: int | None = None
    external_head: bool = False
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def trust_anchor(self) -> str | None:
        return None if self.anchor.kind == "none" else self.anchor.source

    @property
    def qualifiers(self) -> list[str]:
        """What weakens an intact verdict; ``--strict`` fails on any of them."""
        found = []
        if not self.anchor.anchored:
            found.append("unanchored")
        if self.head_status != "verified":
            found.append("no signed head")
        if "v1" in self.signature_versions:
            found.append("v1 signatures")
        return found

    @property
    def strict_ok(self) -> bool:
        return self.intact and not self.qualifiers

    @property
    def verdict(self) -> str:
        if not self.intact:
            return "TAMPERED"
        return ", ".join(["INTACT", *self.qualifiers])

    @property
    def unsigned_events(self) -> int:
        if self.last_seq is None:
            return 0
        return self.last_seq - (self.signed_through if self.signed_through is not None else -1)

    def proven(self) -> list[str]:
        out = []
        if self.signed_through is not None and self.last_seq is not None:
            signer = (
                f"the trusted key ({self.anchor.kind}: {self.anchor.source})"
                if self.anchor.anchored
                else f"the key in {self.anchor.source}, which only says that whoever holds "
                "that key signed them"
            )
            out.append(
                f"events seq 0-{self.signed_through} are hash-chained and covered by "
                f"signatures that verify with {signer}"
            )
        if self.witness is not None and self.witness_latest_seq is not None and self.intact:
            out.append(
                f"the ledger reaches the newest of {self.witness_heads} witnessed head(s) "
                f"(seq {self.witness_latest_seq}) and matches every one of them"
            )
        if self.min_seq is not None and self.intact:
            out.append(f"the ledger reaches seq {self.min_seq} (--min-seq)")
        if self.external_head and self.intact:
            out.append("the externally kept head hash is in the ledger")
        return out

    def not_proven(self) -> list[str]:
        out = []
        if self.unsigned_events > 0:
            first = (self.signed_through if self.signed_through is not None else -1) + 1
            out.append(
                f"events seq {first}-{self.last_seq} ({self.unsigned_events}) are not covered "
                "by any valid signature"
            )
        if self.anchor.kind == "sidecar":
            out.append(
                f"that the signer is the genuine ledger key: the only anchor is "
                f"{self.anchor.source} beside the ledger, which anyone who can write that folder "
                "can replace (pass --public-key, or set ledger.public_key in the policy)"
            )
        if self.head_status != "verified":
            out.append(
                "that no events were cut off after the last checkpoint (no valid signed head)"
            )
        if "v1" in self.signature_versions:
            out.append(
                "v1 signatures are not domain-separated: a checkpoint signature can stand in "
                "for a head, so a cut back to a v1 checkpoint is not excluded"
            )
        if self.witness is None and self.min_seq is None and not self.external_head:
            out.append(
                "that this is the newest copy: a rollback to an earlier valid copy (with its "
                "own head) needs --witness, --min-seq or --head to be detected"
            )
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "ledger": str(self.path),
            "verdict": self.verdict,
            "intact": self.intact,
            "strict_ok": self.strict_ok,
            "format": self.format,
            "ledger_id": self.ledger_id,
            "events": self.events,
            "last_seq": self.last_seq,
            "head_hash": self.head_hash,
            "checkpoints": self.checkpoints,
            "checkpoints_verified": self.checkpoints_verified,
            "last_checkpoint_seq": self.last_checkpoint_seq,
            "signed_head_seq": self.signed_head_seq,
            "head_status": self.head_status,
            "signed_through": self.signed_through,
            "unsigned_events": self.unsigned_events,
            "signature_versions": sorted(self.signature_versions),
            "trust_anchor": self.anchor.to_json(),
            "witness": None
            if self.witness is None
            else {
                "file": str(self.witness),
                "heads": self.witness_heads,
                "latest_seq": self.witness_latest_seq,
            },
            "min_seq": self.min_seq,
            "proven": self.proven(),
            "not_proven": self.not_proven(),
            "problems": [p.to_json() for p in self.problems],
            "notes": self.notes,
        }

"""The audit ledger: chained, signed, append-only; verification says where it was altered."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.canonical import canonical_json
from scanner.governed.errors import LedgerError
from scanner.governed.ledger import Ledger, event_hash, verify_ledger
from scanner.governed.ledger.format import b64, raw_public, signed_payload

Lines = list[str]


def fill(path: Path, count: int = 20, every: int = 5) -> Ledger:
    ledger = Ledger(path, checkpoint_every=every)
    with ledger.session() as session:
        for n in range(count):
            session.append(
                "job.decision",
                actor={"subject": f"user{n % 3}@tests", "kind": "human"},
                source={"channel": "tests"},
                policy={"id": "p", "version": "1", "sha256": "0" * 64},
                decision="allow",
                subject={"job_id": f"job-{n}", "project": "lab"},
                data={"n": n},
            )
    return ledger


def lines_of(path: Path) -> Lines:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def rewrite(path: Path, lines: Lines) -> None:
    path.write_text("".join(lines), encoding="utf-8")


def kinds(path: Path, **kwargs: object) -> set[str]:
    return {p.kind for p in verify_ledger(path, **kwargs).problems}  # type: ignore[arg-type]


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.jsonl"
    fill(path)
    return path


def test_fresh_ledger_is_intact_with_signed_checkpoints(ledger_path: Path) -> None:
    report = verify_ledger(ledger_path)
    assert report.intact, report.problems
    assert report.events == len(lines_of(ledger_path))
    assert report.checkpoints == report.checkpoints_verified >= 4
    assert report.signed_head_seq == report.last_seq
    first = json.loads(lines_of(ledger_path)[0])
    assert first["type"] == "ledger.genesis" and first["prev"] == "0" * 64
    for n, line in enumerate(lines_of(ledger_path)):
        event = json.loads(line)
        assert event["seq"] == n and event["hash"] == event_hash(event)
        assert line == canonical_json(event).decode() + "\n"


def test_sidecars_and_key_permissions(ledger_path: Path, key_store: Path) -> None:
    ledger_id = json.loads(lines_of(ledger_path)[0])["id"]
    key = key_store / f"{ledger_id}.pem"  # the user's key store, not the ledger folder
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert oct(key_store.stat().st_mode & 0o777) == "0o700"
    assert b"PRIVATE KEY" in key.read_bytes()
    assert not any(b"PRIVATE" in p.read_bytes() for p in ledger_path.parent.iterdir())
    assert b"PUBLIC KEY" in ledger_path.with_name("ledger.jsonl.pub").read_bytes()
    assert (key_store / f"{ledger_id}.pub").read_bytes() == (
        ledger_path.with_name("ledger.jsonl.pub").read_bytes()
    )
    head = json.loads(ledger_path.with_name("ledger.jsonl.head").read_text())
    assert head["hash"] == json.loads(lines_of(ledger_path)[-1])["hash"]
    assert head["payload"] == "qgov-ledger-head-v2" and head["ledger_id"] == ledger_id


def _edit(ls: Lines) -> Lines:
    event = json.loads(ls[7])
    event["actor"]["subject"] = "mallory@tests"
    return [*ls[:7], json.dumps(event) + "\n", *ls[8:]]


def _insert(ls: Lines) -> Lines:
    forged = json.loads(ls[7])
    forged["data"] = {"n": 999}
    forged["hash"] = event_hash(forged)
    return [*ls[:8], canonical_json(forged).decode() + "\n", *ls[8:]]


@pytest.mark.parametrize(
    ("mutate", "expected", "line"),
    [
        (_edit, "hash-mismatch", 8),
        (lambda ls: ls[:7] + ls[8:], "sequence-gap", 8),
        (_insert, "sequence-order", 9),
        (lambda ls: [*ls[:7], ls[8], ls[7], *ls[9:]], "sequence-gap", 8),
        (lambda ls: [*ls[:7], ls[8], ls[7], *ls[9:]], "sequence-order", 9),
        (lambda ls: ls[:-2], "truncated", None),
        (lambda ls: ls[1:], "missing-genesis", 1),
    ],
    ids=[
        "edited",
        "deleted",
        "inserted",
        "reordered-gap",
        "reordered-order",
        "truncated",
        "no-genesis",
    ],
)
def test_tampering_is_located(
    ledger_path: Path, mutate: Callable[[Lines], Lines], expected: str, line: int | None
) -> None:
    rewrite(ledger_path, mutate(lines_of(ledger_path)))
    report = verify_ledger(ledger_path)
    assert not report.intact
    matching = [p for p in report.problems if p.kind == expected]
    assert matching, [p.to_json() for p in report.problems]
    assert matching[0].line == line


def test_rewritten_chain_is_caught_by_signatures(ledger_path: Path) -> None:
    """Edit an event and recompute every later hash: only the signatures can tell."""
    ls = lines_of(ledger_path)
    out, prev = list(ls[:3]), json.loads(ls[2])["hash"]
    for n, raw in enumerate(ls[3:]):
        event = json.loads(raw)
        if n == 0:
            event["decision"] = "deny"
        event["prev"] = prev
        event["hash"] = event_hash(event)
        prev = event["hash"]
        out.append(canonical_json(event).decode() + "\n")
    rewrite(ledger_path, out)
    report = verify_ledger(ledger_path)
    found = {p.kind for p in report.problems}
    assert {"checkpoint-mismatch", "head-mismatch"} <= found
    assert "hash-mismatch" not in found and "chain-broken" not in found  # the chain itself is valid
    first = next(p for p in report.problems if p.kind == "checkpoint-mismatch")
    assert "seq" in first.message


def test_attacker_resigning_with_own_key_is_caught(ledger_path: Path) -> None:
    """Rewrite, then re-sign checkpoints and head with a new key embedded in the ledger."""
    attacker = ed25519.Ed25519PrivateKey.generate()
    ls = lines_of(ledger_path)
    ledger_id = json.loads(ls[0])["id"]
    out, prev, hashes = [], "0" * 64, {}
    for raw in ls:
        event = json.loads(raw)
        if event["seq"] == 3:
            event["decision"] = "deny"
        if event["type"] == "ledger.checkpoint":
            covers = event["data"]["covers"]
            covers["hash"] = hashes[covers["seq"]]
            event["data"]["public_key"] = b64(raw_public(attacker.public_key()))
            event["data"]["signature"] = b64(
                attacker.sign(signed_payload(ledger_id, covers["seq"], covers["hash"]))
            )
        event["prev"] = prev
        event["hash"] = event_hash(event)
        prev = hashes[event["seq"]] = event["hash"]
        out.append(canonical_json(event).decode() + "\n")
    rewrite(ledger_path, out)
    found = kinds(ledger_path)
    assert {"checkpoint-foreign-key", "checkpoint-signature-invalid"} <= found


def test_truncation_without_head_file_needs_an_outside_anchor(ledger_path: Path) -> None:
    """Cut back exactly to a checkpoint and delete the head: the ledger's own signatures
    cannot tell; the verdict says so, and anything kept outside catches it."""
    ls = lines_of(ledger_path)
    head, last_seq = json.loads(ls[-1])["hash"], len(ls) - 1
    cut = max(n for n, line in enumerate(ls[:-1]) if '"type":"ledger.checkpoint"' in line)
    ledger_path.with_name("ledger.jsonl.head").unlink()
    rewrite(ledger_path, ls[: cut + 1])
    report = verify_ledger(ledger_path)
    assert report.intact and not report.strict_ok
    assert "no signed head" in report.qualifiers
    assert any("no signed head file" in n for n in report.notes)
    assert any("cut off after the last checkpoint" in n for n in report.not_proven())
    assert "external-head-missing" in kinds(ledger_path, head=head)
    assert "below-min-seq" in kinds(ledger_path, min_seq=last_seq)


def test_external_head_that_is_present_passes(ledger_path: Path) -> None:
    head = json.loads(lines_of(ledger_path)[5])["hash"]  # kept earlier; the ledger grew since
    assert verify_ledger(ledger_path, head=head).intact


def test_events_appended_behind_qgovs_back_are_unsigned(ledger_path: Path) -> None:
    ls = lines_of(ledger_path)
    extra = json.loads(ls[-1])
    extra.update(seq=extra["seq"] + 1, prev=extra["hash"], type="job.decision", data={"n": -1})
    extra["hash"] = event_hash(extra)
    rewrite(ledger_path, [*ls, canonical_json(extra).decode() + "\n"])
    assert "unsigned-events" in kinds(ledger_path)


def test_trust_anchor_order(ledger_path: Path, tmp_path: Path, key_store: Path) -> None:
    pub = ledger_path.with_name("ledger.jsonl.pub")
    kept = tmp_path / "kept.pub"
    kept.write_bytes(pub.read_bytes())
    assert verify_ledger(ledger_path).anchor.kind == "key-store"
    for stored in key_store.iterdir():  # verifying on another machine: only the copy beside it
        stored.unlink()
    report = verify_ledger(ledger_path)
    assert report.intact and report.anchor.kind == "sidecar" and not report.anchor.anchored
    assert report.verdict == "INTACT, unanchored" and not report.strict_ok
    pub.unlink()
    assert "no-trust-anchor" in kinds(ledger_path)
    report = verify_ledger(ledger_path, public_key=kept)
    assert report.strict_ok and report.anchor.kind == "public-key"
    assert verify_ledger(ledger_path, policy_public_key=kept.read_text()).strict_ok
    other = tmp_path / "other.pub"
    from scanner.governed.tokens import public_key_pem

    other.write_text(public_key_pem(ed25519.Ed25519PrivateKey.generate()))
    assert "checkpoint-signature-invalid" in kinds(ledger_path, public_key=other)


def test_torn_write_is_reported_and_blocks_appends(ledger_path: Path) -> None:
    with ledger_path.open("ab") as handle:
        handle.write(b'{"seq": 99, "half')
    report = verify_ledger(ledger_path)
    torn = [p for p in report.problems if p.kind == "torn-write"]
    assert torn and torn[0].line == len(ledger_path.read_bytes().split(b"\n"))
    with pytest.raises(LedgerError, match="torn"):
        Ledger(ledger_path).append("job.decision")


def test_corrupt_tail_blocks_appends(ledger_path: Path) -> None:
    rewrite(ledger_path, _edit(lines_of(ledger_path))[:8])
    with pytest.raises(LedgerError, match="does not match its hash"):
        Ledger(ledger_path).append("job.decision")


def test_lost_genesis_blocks_appends(ledger_path: Path) -> None:
    rewrite(ledger_path, lines_of(ledger_path)[1:])
    with pytest.raises(LedgerError, match="not the genesis event"):
        Ledger(ledger_path).append("job.decision")


def test_missing_or_foreign_signing_key_blocks_appends(ledger_path: Path, key_store: Path) -> None:
    key = key_store / f"{json.loads(lines_of(ledger_path)[0])['id']}.pem"
    saved = key.read_bytes()
    key.unlink()
    with pytest.raises(LedgerError, match="signing key is missing"):
        Ledger(ledger_path).append("job.decision")
    other = Ledger(ledger_path.with_name("other.jsonl"))
    other.append("job.decision")
    assert other.key_path is not None
    key.write_bytes(other.key_path.read_bytes())
    with pytest.raises(LedgerError, match="does not match the public key"):
        Ledger(ledger_path).append("job.decision")
    key.write_bytes(saved)
    Ledger(ledger_path).append("job.decision")
    assert verify_ledger(ledger_path).intact


def test_floats_never_reach_the_ledger(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.jsonl")
    with pytest.raises(LedgerError, match="floats"):
        ledger.append("job.decision", data={"ms": 1.5})
    assert verify_ledger(tmp_path / "l.jsonl").intact  # genesis only; nothing half-written


def test_appends_across_runs_keep_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "l.jsonl"
    for _ in range(3):
        fill(path, count=4, every=100).checkpoint()
    report = verify_ledger(path)
    assert report.intact and report.events == 1 + 3 * (4 + 1)
    assert len({json.loads(x)["id"] for x in lines_of(path)}) == report.events


WRITER = """
import sys, time
from pathlib import Path
from scanner.governed.ledger import Ledger
path, name, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ledger = Ledger(path, checkpoint_every=7)
(path.parent / f"ready-{name}").touch()
while not (path.parent / "go").exists():  # start both writers at the same moment
    time.sleep(0.001)
for n in range(count):
    ledger.append("job.decision", subject={"writer": name, "n": n}, data={"pad": "x" * 300})
    time.sleep(0.002)  # work between appends, as a real writer does
"""


def test_concurrent_writers_do_not_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    Ledger(path).append("job.decision")  # create the key first
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, "80"], env=env)
        for name in ("a", "b")
    ]
    deadline = time.monotonic() + 30
    while not all((tmp_path / f"ready-{n}").exists() for n in "ab"):
        assert time.monotonic() < deadline and all(w.poll() is None for w in writers)
        time.sleep(0.005)
    (tmp_path / "go").touch()
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    report = verify_ledger(path)
    assert report.intact, [p.to_json() for p in report.problems[:3]]
    order = [json.loads(x)["subject"].get("writer") for x in lines_of(path)]
    assert order.count("a") == order.count("b") == 80
    # The writers really overlapped: their events interleave in the file.
    switches = sum(1 for x, y in itertools.pairwise(order) if {x, y} == {"a", "b"})
    assert switches >= 2

"""The ledger's trust, attacked: anchors, signed coverage, domain separation, witnessed heads,
exact bytes, planted links and paths that are not ledger files."""

from __future__ import annotations

import json
import os
import shutil
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.canonical import canonical_json
from scanner.governed.errors import LedgerError
from scanner.governed.ledger import Ledger, event_hash, verify_ledger
from scanner.governed.ledger.format import (
    FORMAT_V1,
    MAX_LINE_BYTES,
    iter_lines,
    key_id,
    load_signing_key,
    sign,
    signed_payload,
    stored_key_path,
)
from tests.governed.helpers import qgov

Lines = list[str]
POLICY = "samples/policy/org-policy.yaml"
BELL = "samples/jobs/bell.yaml"


def fill(path: Path, count: int = 20, every: int = 5, **options: Any) -> Ledger:
    ledger = Ledger(path, checkpoint_every=every, **options)
    for n in range(count):  # one session (and one signed head) per event
        ledger.append(
            "job.decision",
            decision="deny" if n == 3 else "allow",
            subject={"job_id": f"job-{n}"},
            data={"n": n},
        )
    return ledger


def lines_of(path: Path) -> Lines:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def rewrite(path: Path, lines: Lines) -> None:
    path.write_text("".join(lines), encoding="utf-8")


def rechain(events: list[dict[str, Any]]) -> Lines:
    """Renumber and re-link events the way an attacker with write access would."""
    out, prev = [], "0" * 64
    for seq, event in enumerate(events):
        event.update(seq=seq, prev=prev)
        event["hash"] = prev = event_hash(event)
        out.append(canonical_json(event).decode() + "\n")
    return out


def kinds(path: Path, **kwargs: Any) -> set[str]:
    return {p.kind for p in verify_ledger(path, **kwargs).problems}


def genuine_key(path: Path) -> ed25519.Ed25519PrivateKey:
    return load_signing_key(stored_key_path(json.loads(lines_of(path)[0])["id"]))


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    path = tmp_path / "audit" / "ledger.jsonl"
    fill(path)
    return path


@pytest.fixture
def kept_pub(ledger_path: Path, tmp_path: Path) -> Path:
    """The genuine public key, kept outside the ledger folder."""
    kept = tmp_path / "kept.pub"
    kept.write_bytes(ledger_path.with_name("ledger.jsonl.pub").read_bytes())
    return kept


# -- 1. the trust anchor ---------------------------------------------------------------------


def test_a_resigned_ledger_is_only_intact_unanchored(
    ledger_path: Path, kept_pub: Path, key_store: Path
) -> None:
    """Whoever can write the ledger folder replaces the .pub copy and re-signs everything."""
    attacker = ed25519.Ed25519PrivateKey.generate()
    from scanner.governed.ledger.format import b64, checkpoint_payload, raw_public
    from scanner.governed.ledger.witness import signed_head

    events = [json.loads(line) for line in lines_of(ledger_path)]
    events[4]["decision"] = "allow"  # the deny at n == 3
    ledger_id, hashes = events[0]["id"], {}
    out, prev = [], "0" * 64
    for event in events:
        if event["type"] == "ledger.checkpoint":
            covers = event["data"]["covers"]
            covers["hash"] = hashes[covers["seq"]]
            event["data"]["public_key"] = b64(raw_public(attacker.public_key()))
            event["data"]["key_id"] = key_id(attacker.public_key())
            event["data"]["signature"] = sign(
                attacker, checkpoint_payload(ledger_id, covers["seq"], covers["hash"])
            )
        event["prev"] = prev
        event["hash"] = prev = hashes[event["seq"]] = event_hash(event)
        out.append(canonical_json(event).decode() + "\n")
    rewrite(ledger_path, out)
    last = events[-1]
    head = signed_head(
        attacker,
        ledger_id=ledger_id,
        seq=last["seq"],
        hash_=last["hash"],
        signed_at="2026-11-25T10:00:00.000Z",
        ledger=ledger_path,
    )
    ledger_path.with_name("ledger.jsonl.head").write_text(canonical_json(head).decode() + "\n")
    from scanner.governed.tokens import public_key_pem

    ledger_path.with_name("ledger.jsonl.pub").write_text(public_key_pem(attacker))
    # The writer's own machine still has the real key in its key store: caught.
    assert "checkpoint-signature-invalid" in kinds(ledger_path)
    # The genuine key given explicitly: caught.
    assert "checkpoint-signature-invalid" in kinds(ledger_path, public_key=kept_pub)
    # Elsewhere, with only the copy beside the ledger, the verdict says it proves nothing.
    shutil.rmtree(key_store)
    report = verify_ledger(ledger_path)
    assert report.intact and report.verdict == "INTACT, unanchored" and not report.strict_ok
    assert any("anyone who can write that folder" in n for n in report.not_proven())


def test_policy_names_the_signing_key_and_the_trusted_public_key(tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "ledger.pem"
    path = tmp_path / "audit" / "ledger.jsonl"
    fill(path, count=3, signing_key=key_file)
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    report = verify_ledger(path, policy_signing_key=key_file)
    assert report.strict_ok and report.anchor.kind == "policy-signing-key"
    pem = path.with_name("ledger.jsonl.pub").read_text()
    assert verify_ledger(path, policy_public_key=pem).anchor.kind == "policy-public-key"


# -- 2. signed coverage ----------------------------------------------------------------------


def test_full_rewrite_without_checkpoints_is_not_intact(ledger_path: Path, kept_pub: Path) -> None:
    """Flip a deny to allow, drop every checkpoint, recompute the chain, delete the head."""
    events = [json.loads(line) for line in lines_of(ledger_path)]
    events = [e for e in events if e["type"] != "ledger.checkpoint"]
    flipped = next(e for e in events if e.get("decision") == "deny")
    flipped["decision"] = "allow"
    rewrite(ledger_path, rechain(events))
    ledger_path.with_name("ledger.jsonl.head").unlink()
    report = verify_ledger(ledger_path, public_key=kept_pub)
    assert not report.intact and {p.kind for p in report.problems} == {"unsigned"}
    assert report.signed_through is None and report.unsigned_events == len(events)
    assert any("not covered by any valid signature" in n for n in report.not_proven())


def test_rewrite_after_the_last_checkpoint_names_the_unsigned_events(
    ledger_path: Path, kept_pub: Path
) -> None:
    ls = lines_of(ledger_path)
    events = [json.loads(line) for line in ls]
    last_cp = max(n for n, e in enumerate(events) if e["type"] == "ledger.checkpoint")
    extra = {**events[-2], "id": "forged", "data": {"n": 99}}
    tail = [e for e in events[last_cp + 1 :] if e["type"] != "ledger.checkpoint"] + [extra]
    lines = rechain(events[: last_cp + 1] + tail)
    rewrite(ledger_path, lines)
    ledger_path.with_name("ledger.jsonl.head").unlink()
    report = verify_ledger(ledger_path, public_key=kept_pub)
    unsigned = [p for p in report.problems if p.kind == "unsigned-events"]
    assert unsigned and unsigned[0].seq == last_cp + 1
    assert report.signed_through == last_cp and report.unsigned_events == len(tail)


# -- 3. domain separation, v1 ---------------------------------------------------------------


@pytest.mark.parametrize("label", [None, "qgov-ledger-head-v2"])
def test_a_checkpoint_signature_cannot_pose_as_the_head(
    ledger_path: Path, kept_pub: Path, label: str | None
) -> None:
    ls = lines_of(ledger_path)
    n, checkpoint = next(
        (n, json.loads(line)) for n, line in enumerate(ls) if '"ledger.checkpoint"' in line
    )
    rewrite(ledger_path, ls[:n])  # cut back to the event the checkpoint signed
    covers = checkpoint["data"]["covers"]
    head = {
        "format": "qgov-ledger/2",
        "ledger_id": checkpoint["subject"]["ledger_id"],
        "seq": covers["seq"],
        "hash": covers["hash"],
        "signed_at": "2026-11-25T10:00:00.000Z",
        "signature": checkpoint["data"]["signature"],
    }
    if label:
        head["payload"] = label
    ledger_path.with_name("ledger.jsonl.head").write_text(canonical_json(head).decode() + "\n")
    report = verify_ledger(ledger_path, public_key=kept_pub)
    assert "head-signature-invalid" in {p.kind for p in report.problems}
    assert report.head_status == "invalid"


def _to_v1(path: Path, key: ed25519.Ed25519PrivateKey) -> None:
    """What a qgov-ledger/1 writer left: unlabelled signatures over the shared payload."""
    events = [json.loads(line) for line in lines_of(path)]
    ledger_id = events[0]["id"]
    events[0]["data"]["format"] = FORMAT_V1
    events[0]["data"].pop("signed_payloads")
    hashes: dict[int, str] = {}
    out, prev = [], "0" * 64
    for event in events:
        if event["type"] == "ledger.checkpoint":
            covers, data = event["data"]["covers"], event["data"]
            covers["hash"] = hashes[covers["seq"]]
            data.pop("payload")
            data["signature"] = sign(key, signed_payload(ledger_id, covers["seq"], covers["hash"]))
        event["prev"] = prev
        event["hash"] = prev = hashes[event["seq"]] = event_hash(event)
        out.append(canonical_json(event).decode() + "\n")
    rewrite(path, out)
    last = events[-1]
    head = {
        "format": FORMAT_V1,
        "ledger_id": ledger_id,
        "seq": last["seq"],
        "hash": last["hash"],
        "signed_at": "2026-11-25T10:00:00.000Z",
        "key_id": key_id(key.public_key()),
        "signature": sign(key, signed_payload(ledger_id, last["seq"], last["hash"])),
    }
    path.with_name("ledger.jsonl.head").write_text(canonical_json(head).decode() + "\n")


def test_v1_ledgers_verify_as_v1_and_continue_with_v2(ledger_path: Path) -> None:
    _to_v1(ledger_path, genuine_key(ledger_path))
    report = verify_ledger(ledger_path)
    assert report.intact and report.signature_versions == {"v1"}
    assert report.verdict == "INTACT, v1 signatures" and not report.strict_ok
    assert any("not domain-separated" in n for n in report.not_proven())
    Ledger(ledger_path).append("job.decision", data={"n": 100})
    Ledger(ledger_path).checkpoint()
    report = verify_ledger(ledger_path)
    assert report.intact and report.signature_versions == {"v1", "v2"}
    assert json.loads(lines_of(ledger_path)[-1])["data"]["payload"] == "qgov-ledger-checkpoint-v2"


def test_an_unlabelled_signature_in_a_v2_ledger_is_refused(ledger_path: Path) -> None:
    key = genuine_key(ledger_path)
    events = [json.loads(line) for line in lines_of(ledger_path)]
    cp = next(e for e in events if e["type"] == "ledger.checkpoint")
    covers = cp["data"]["covers"]
    cp["data"].pop("payload")
    cp["data"]["signature"] = sign(
        key, signed_payload(events[0]["id"], covers["seq"], covers["hash"])
    )
    cp["hash"] = event_hash(cp)
    rewrite(ledger_path, [canonical_json(e).decode() + "\n" for e in events])
    problems = [p for p in verify_ledger(ledger_path).problems if p.seq == cp["seq"]]
    assert any(p.kind == "checkpoint-signature-invalid" and "label" in p.message for p in problems)


# -- 4. heads outside the ledger: witness, SIEM, --min-seq ----------------------------------


def test_the_witness_catches_rollback_and_truncation(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "ledger.jsonl"
    witness_dir = tmp_path / "witness"
    witness_dir.mkdir()
    witness = witness_dir / "heads.jsonl"
    ledger = fill(path, count=6, witness=witness)
    backup = tmp_path / "backup"
    backup.mkdir()
    for name in ("ledger.jsonl", "ledger.jsonl.head"):
        shutil.copy(path.with_name(name), backup / name)
    for n in range(4):
        ledger.append("job.decision", data={"n": 10 + n})
    heads = [json.loads(line) for line in witness.read_text().splitlines()]
    assert len(heads) == 10 and heads[-1]["seq"] == json.loads(lines_of(path)[-1])["seq"]
    assert all(h["payload"] == "qgov-ledger-head-v2" and h["signature"] for h in heads)
    report = verify_ledger(path, witness=witness)
    assert report.strict_ok and report.witness_heads == 10
    assert any("witnessed head" in p for p in report.proven())

    # Rollback to the earlier, self-consistent copy with its own head.
    for name in ("ledger.jsonl", "ledger.jsonl.head"):
        shutil.copy(backup / name, path.with_name(name))
    assert verify_ledger(path).intact  # the ledger alone cannot tell
    rolled = [p for p in verify_ledger(path, witness=witness).problems if p.kind == "rolled-back"]
    assert rolled and "older copy" in rolled[0].message
    assert "below-min-seq" in kinds(path, min_seq=heads[-1]["seq"])

    # A forged witness line, and a ledger the witness never saw.
    with witness.open("a") as handle:
        handle.write(json.dumps({**heads[-1], "seq": 999}) + "\n")
    assert "witness-entry-invalid" in kinds(path, witness=witness)
    other = tmp_path / "other" / "ledger.jsonl"
    fill(other, count=2)
    assert "witness-unknown-ledger" in kinds(other, witness=witness)


def test_witness_must_be_a_regular_file(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    link = tmp_path / "witness.jsonl"
    link.symlink_to(victim)
    with pytest.raises(LedgerError, match="symlink"):
        fill(tmp_path / "audit" / "ledger.jsonl", count=1, witness=link)
    assert victim.read_text() == "precious"


# -- 5. exact bytes --------------------------------------------------------------------------


def _spaced(ls: Lines) -> Lines:
    return [*ls[:5], json.dumps(json.loads(ls[5]), sort_keys=True) + "\n", *ls[6:]]


def _duplicate_key(ls: Lines) -> Lines:
    # json keeps the last "decision" (the hash matches); a SIEM may read the first.
    line = ls[4].replace('{"actor"', '{"decision":"allow","actor"', 1)
    return [*ls[:4], line, *ls[5:]]


def _deep(ls: Lines) -> Lines:
    return [*ls[:5], "[" * 200_000 + "]" * 200_000 + "\n", *ls[6:]]


def _nested(ls: Lines) -> Lines:
    event = json.loads(ls[5])
    value: Any = 1
    for _ in range(100):
        value = {"x": value}
    event["data"] = value
    event["hash"] = event_hash(event)
    return [*ls[:5], canonical_json(event).decode() + "\n", *ls[6:]]


@pytest.mark.parametrize(
    ("mutate", "kind", "line"),
    [
        (_spaced, "non-canonical", 6),
        (lambda ls: [x.replace("\n", "\r\n") for x in ls], "non-canonical", 1),
        (_duplicate_key, "duplicate-key", 5),
        (_deep, "unparseable", 6),
        (_nested, "unparseable", 6),
    ],
    ids=["whitespace", "crlf", "duplicate-key", "deep-array", "deep-object"],
)
def test_only_the_canonical_bytes_verify(
    ledger_path: Path, mutate: Any, kind: str, line: int
) -> None:
    rewrite(ledger_path, mutate(lines_of(ledger_path)))
    report = verify_ledger(ledger_path)
    found = [p for p in report.problems if p.kind == kind]
    assert found and found[0].line == line, [p.to_json() for p in report.problems]
    if kind == "duplicate-key":
        assert "hash-mismatch" not in {p.kind for p in report.problems}  # only the bytes tell


def test_a_non_canonical_tail_blocks_appends(ledger_path: Path) -> None:
    ls = lines_of(ledger_path)
    rewrite(ledger_path, [*ls[:-1], json.dumps(json.loads(ls[-1])) + "\n"])
    with pytest.raises(LedgerError, match="not canonical"):
        Ledger(ledger_path).append("job.decision")


# -- 6. planted links, temporary files -------------------------------------------------------


def test_planted_symlinks_are_never_followed(ledger_path: Path, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    folder = ledger_path.parent
    for name in ("ledger.jsonl.head", "ledger.jsonl.pub"):  # the old, predictable temp names
        (folder / f".{name}.{os.getpid()}.tmp").symlink_to(victim)
    Ledger(ledger_path).append("job.decision", data={"n": 50})
    assert victim.read_text() == "precious"
    assert verify_ledger(ledger_path).intact
    for name in ("ledger.jsonl.head", "ledger.jsonl.lock", "ledger.jsonl.pub"):
        target = folder / name
        saved = tmp_path / f"saved-{name}"
        if target.exists():
            target.rename(saved)
        target.symlink_to(victim)
        with pytest.raises(LedgerError, match="symlink"):
            Ledger(ledger_path).append("job.decision")
        assert victim.read_text() == "precious" and target.is_symlink()
        target.unlink()
        if saved.exists():
            saved.rename(target)
        assert verify_ledger(ledger_path).strict_ok  # refused before anything was appended
    assert not list(folder.glob(".*.tmp")) or all(p.is_symlink() for p in folder.glob(".*.tmp"))
    link = folder / "link.jsonl"
    link.symlink_to(ledger_path)
    with pytest.raises(LedgerError, match="symlink"):
        Ledger(link)
    with pytest.raises(LedgerError, match="symlink"):
        verify_ledger(link)


# -- 7. a ledger path that is not a ledger file ----------------------------------------------


def test_a_ledger_path_must_be_a_regular_file(tmp_path: Path) -> None:
    folder = tmp_path / "dir"
    folder.mkdir()
    with pytest.raises(LedgerError, match="is a folder"):
        Ledger(folder)
    assert not (tmp_path / "dir.lock").exists()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(LedgerError, match="not a regular file"):
        Ledger(fifo)
    with pytest.raises(LedgerError, match="not a regular file"):
        verify_ledger(fifo)  # refused, not blocked on
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    with pytest.raises(LedgerError, match="not a folder"):
        Ledger(plain / "ledger.jsonl")


def test_an_oversized_line_is_damage_read_in_bounded_memory(
    ledger_path: Path, tmp_path: Path
) -> None:
    ls = lines_of(ledger_path)
    rewrite(ledger_path, [*ls[:5], "x" * (2 * MAX_LINE_BYTES) + "\n", *ls[5:]])
    report = verify_ledger(ledger_path)
    assert [p.line for p in report.problems if p.kind == "oversized"] == [6]
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        for _ in range(32):
            handle.write(b"y" * (1 << 20))  # a 32 MiB line, then a short one
        handle.write(b"\n{}\n")
    fd = os.open(big, os.O_RDONLY)
    tracemalloc.start()
    try:
        lines = list(iter_lines(fd))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        os.close(fd)
    assert [(x.raw, x.size) for x in lines] == [(None, 32 << 20), (b"{}", 2)]
    assert peak < 8 * MAX_LINE_BYTES


# -- the command line ------------------------------------------------------------------------



def test_verify_says_what_was_proven_and_strict_wants_an_anchor(
    demo: Path, capsys: pytest.CaptureFixture[str], key_store: Path
) -> None:
    witness = demo / "witness.jsonl"
    assert qgov("job", "run", BELL, "--policy", POLICY, "--witness", str(witness)) == 0
    ledger = ".qgov/ledger.jsonl"
    capsys.readouterr()
    assert qgov("ledger", "verify", ledger, "--strict", "--witness", str(witness)) == 0
    out = capsys.readouterr().out
    assert out.startswith("INTACT: .qgov/ledger.jsonl:")
    assert "(key-store)" in out and "proven:       events seq 0-" in out
    assert "witnessed head" in out
    pem = (demo / ".qgov" / "ledger.jsonl.pub").read_text()
    shutil.rmtree(key_store)  # verifying elsewhere: only the copy beside the ledger
    assert qgov("ledger", "verify", ledger) == 0
    out = capsys.readouterr().out
    assert out.startswith("INTACT, unanchored:") and "NOT an anchor" in out
    assert "not proven:   that the signer is the genuine ledger key" in out
    assert qgov("ledger", "verify", ledger, "--strict") == 1
    capsys.readouterr()
    policy = yaml.safe_load((demo / POLICY).read_text())
    policy["ledger"]["public_key"] = pem
    anchored = demo / "anchored-policy.yaml"
    anchored.write_text(yaml.safe_dump(policy))
    assert qgov("ledger", "verify", ledger, "--strict", "--policy", str(anchored)) == 0
    assert "(policy-public-key)" in capsys.readouterr().out
    assert qgov("ledger", "verify", ledger, "--policy", str(anchored), "--min-seq", "999") == 1
    assert "below-min-seq" in capsys.readouterr().out
    assert qgov("ledger", "verify", ledger, "--format", "json", "--policy", str(anchored)) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["verdict"] == "INTACT" and payload["trust_anchor"]["anchored"]
    assert payload["signed_through"] == payload["last_seq"] and payload["unsigned_events"] == 0


def test_cli_refuses_a_folder_as_ledger_and_reports_a_deep_line(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (demo / "box").mkdir()
    assert qgov("job", "run", BELL, "--policy", POLICY, "--ledger", "box") == 2
    err = capsys.readouterr().err
    assert "is a folder" in err and "Traceback" not in err
    assert not (demo / "box.lock").exists() and not (demo / "governed.log").exists()
    assert qgov("job", "run", BELL, "--policy", POLICY) == 0
    ledger = demo / ".qgov" / "ledger.jsonl"
    ls = lines_of(ledger)
    rewrite(ledger, [*ls[:2], "[" * 100_000 + "]" * 100_000 + "\n", *ls[2:]])
    capsys.readouterr()
    assert qgov("ledger", "verify", str(ledger)) == 1
    captured = capsys.readouterr()
    assert "line 3: unparseable: nested too deeply" in captured.out
    assert "internal error" not in captured.out + captured.err


def test_a_legacy_key_beside_the_ledger_still_signs_and_is_flagged(
    ledger_path: Path, key_store: Path
) -> None:
    stored = stored_key_path(json.loads(lines_of(ledger_path)[0])["id"])
    legacy = ledger_path.with_name("ledger.jsonl.key")
    stored.rename(legacy)  # the v1 layout: the private key in the ledger's folder
    stored.with_suffix(".pub").unlink()
    Ledger(ledger_path).append("job.decision", data={"n": 77})
    report = verify_ledger(ledger_path)
    assert report.intact and report.anchor.kind == "sidecar"
    assert any("signing key lies beside the ledger" in n for n in report.notes)
    legacy.rename(stored)  # moved into the key store: anchored again, and still writable
    Ledger(ledger_path).append("job.decision", data={"n": 78})
    report = verify_ledger(ledger_path)
    assert report.strict_ok and report.anchor.kind == "key-store"

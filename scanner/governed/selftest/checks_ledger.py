"""Self-test checks of the ledger's trust: an anchored key, signed coverage, domain-separated
signatures, witnessed heads against rollback, exact bytes, and no followed links.

Each check works on copies in ``ledger-trust/<check>/`` (reset at its start) or on a small
ledger of its own there, so the scenario's ledger stays the untouched evidence. The key that
signs those small ledgers is created beside the scenario's signing key, outside the evidence
folder.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.canonical import canonical_json
from scanner.governed.errors import LedgerError
from scanner.governed.ledger import Ledger, event_hash, verify_ledger
from scanner.governed.ledger.format import (
    HEAD_TYPE,
    b64,
    checkpoint_payload,
    head_payload,
    key_id,
    load_signing_key,
    public_pem,
    raw_public,
    sign,
    signature_valid,
)
from scanner.governed.ledger.witness import signed_head
from scanner.governed.selftest.registry import CheckResult, applicable, check, expect
from scanner.governed.selftest.scenario import Scenario


def _folder(s: Scenario, name: str) -> Path:
    folder = s.out / "ledger-trust" / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def _copy_ledger(s: Scenario, folder: Path) -> Path:
    """The scenario's ledger, its head and its public-key copy, into ``folder``."""
    applicable(s.ctx.ledger_path.exists(), "no job reached the ledger (see the checks above)")
    target = folder / "ledger.jsonl"
    for suffix in ("", ".head", ".pub"):
        shutil.copy(f"{s.ctx.ledger_path}{suffix}", f"{target}{suffix}")
    return target


def _anchor(s: Scenario, folder: Path) -> Path:
    """The genuine public key, kept apart from the ledger (as a verifier would get it)."""
    assert s.ctx.signing_key is not None
    applicable(s.ctx.ledger_path.exists(), "no job reached the ledger (see the checks above)")
    kept = folder / "trusted-ledger-key.pub"
    kept.write_bytes(public_pem(load_signing_key(s.ctx.signing_key)))
    return kept


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _write(path: Path, events: list[dict[str, Any]], *, rechain: bool = True) -> None:
    prev = "0" * 64
    lines = []
    for seq, event in enumerate(events):
        if rechain:
            event.update(seq=seq, prev=prev)
            event["hash"] = prev = event_hash(event)
        lines.append(canonical_json(event).decode() + "\n")
    path.write_text("".join(lines), encoding="utf-8")


def _a_deny(events: list[dict[str, Any]]) -> dict[str, Any]:
    """The first refusal in the ledger: what a forger would flip to allow."""
    found = next((e for e in events if e.get("decision") == "deny"), None)
    applicable(found is not None, "the ledger holds no refusal to flip")
    assert found is not None
    return found


def _kinds(path: Path, **options: Any) -> set[str]:
    return {p.kind for p in verify_ledger(path, **options).problems}


@check(
    "ledger-anchored",
    "Ledger verification is anchored to a key kept outside the ledger folder",
    ["LOG-02"],
)
def check_anchored(s: Scenario, c: CheckResult) -> None:
    folder = _folder(s, "anchor")
    kept = _anchor(s, folder)
    target = _copy_ledger(s, folder)
    anchored = verify_ledger(target, public_key=kept)
    expect(anchored.strict_ok, f"the scenario ledger is not strictly intact: {anchored.verdict}")
    beside = verify_ledger(target)
    expect(
        beside.verdict == "INTACT, unanchored" and not beside.strict_ok,
        f"checked against the copy beside it the verdict was {beside.verdict!r}",
    )
    # Whoever can write the folder: flip a deny, re-sign everything, replace the .pub copy.
    attacker = ed25519.Ed25519PrivateKey.generate()
    events = _events(target)
    flipped = _a_deny(events)
    flipped["decision"] = "allow"
    ledger_id, prev = events[0]["id"], "0" * 64
    hashes: dict[int, str] = {}
    for event in events:
        if event["type"] == "ledger.checkpoint":
            covers, data = event["data"]["covers"], event["data"]
            covers["hash"] = hashes[covers["seq"]]
            data["public_key"] = b64(raw_public(attacker.public_key()))
            data["key_id"] = key_id(attacker.public_key())
            data["signature"] = sign(
                attacker, checkpoint_payload(ledger_id, covers["seq"], covers["hash"])
            )
        event["prev"] = prev
        event["hash"] = prev = hashes[event["seq"]] = event_hash(event)
    _write(target, events, rechain=False)
    head = signed_head(
        attacker,
        ledger_id=ledger_id,
        seq=events[-1]["seq"],
        hash_=events[-1]["hash"],
        signed_at=events[-1]["ts"],
        ledger=target,
    )
    Path(f"{target}.head").write_text(canonical_json(head).decode() + "\n", encoding="utf-8")
    Path(f"{target}.pub").write_bytes(public_pem(attacker))
    forged = verify_ledger(target)
    caught = _kinds(target, public_key=kept)
    expect(
        forged.verdict == "INTACT, unanchored" and not forged.strict_ok,
        f"a re-signed ledger checked against its own .pub gave {forged.verdict!r}",
    )
    expect("checkpoint-signature-invalid" in caught, f"the anchored check found {caught}")
    c.detail = (
        "anchored: INTACT (strict); copy-only: 'INTACT, unanchored' (strict fails); a re-signed "
        "rewrite with a replaced .pub: unanchored without the key, caught with it"
    )
    c.evidence = [s.rel(target), s.rel(kept)]


@check(
    "ledger-rewrite-unsigned",
    "A rewritten ledger without valid signatures is not intact",
    ["LOG-01", "LOG-02"],
)
def check_rewrite(s: Scenario, c: CheckResult) -> None:
    folder = _folder(s, "rewrite")
    kept = _anchor(s, folder)
    target = _copy_ledger(s, folder)
    events = [e for e in _events(target) if e["type"] != "ledger.checkpoint"]
    flipped = _a_deny(events)
    flipped["decision"] = "allow"
    _write(target, events)
    Path(f"{target}.head").unlink()
    report = verify_ledger(target, public_key=kept)
    kinds = {p.kind for p in report.problems}
    expect(kinds == {"unsigned"}, f"a rewrite without checkpoints gave {sorted(kinds)}")
    expect(report.unsigned_events == len(events), "the unsigned events were not counted")
    c.detail = (
        f"deny flipped to allow, {len(_events(s.ctx.ledger_path)) - len(events)} checkpoints "
        f"dropped, chain recomputed, head deleted: not intact ({len(events)} events unsigned) "
        "even with the genuine key"
    )
    c.evidence = [s.rel(target)]


@check(
    "ledger-head-domain-separated",
    "A checkpoint signature cannot stand in for a signed head",
    ["LOG-02"],
)
def check_domain_separation(s: Scenario, c: CheckResult) -> None:
    folder = _folder(s, "head-confusion")
    kept = _anchor(s, folder)
    target = _copy_ledger(s, folder)
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    n = next(i for i, line in enumerate(lines) if '"type":"ledger.checkpoint"' in line)
    checkpoint = json.loads(lines[n])
    target.write_text("".join(lines[:n]), encoding="utf-8")  # cut back to what it signed
    covers = checkpoint["data"]["covers"]
    head = {
        "type": HEAD_TYPE,
        "payload": "qgov-ledger-head-v2",
        "format": "qgov-ledger/2",
        "ledger_id": checkpoint["subject"]["ledger_id"],
        "seq": covers["seq"],
        "hash": covers["hash"],
        "signed_at": checkpoint["ts"],
        "signature": checkpoint["data"]["signature"],
    }
    Path(f"{target}.head").write_text(canonical_json(head).decode() + "\n", encoding="utf-8")
    kinds = _kinds(target, public_key=kept)
    expect("head-signature-invalid" in kinds, f"a checkpoint signature as head gave {kinds}")
    c.detail = (
        f"ledger cut back to seq {covers['seq']} with the checkpoint's signature written as the "
        "head: refused (heads and checkpoints sign differently labelled payloads)"
    )
    c.evidence = [s.rel(target)]


@check(
    "ledger-rollback-witnessed",
    "Signed heads kept outside the ledger expose rollback and truncation",
    ["LOG-02", "LOG-07"],
)
def check_rollback(s: Scenario, c: CheckResult) -> None:
    folder = _folder(s, "rollback")
    assert s.ctx.signing_key is not None
    key = s.ctx.signing_key.with_name("rollback-ledger.key")  # outside the evidence folder
    if key.exists():
        key.unlink()
    witness = folder / "witness.jsonl"
    path = folder / "ledger.jsonl"
    ledger = Ledger(path, signing_key=key, checkpoint_every=4, witness=witness)
    for n in range(6):
        ledger.append("job.decision", decision="allow", subject={"job_id": f"rb-{n}"})
    saved = {suffix: Path(f"{path}{suffix}").read_bytes() for suffix in ("", ".head")}
    for n in range(6, 9):
        ledger.append("job.decision", decision="deny", subject={"job_id": f"rb-{n}"})
    newest = _events(path)[-1]["seq"]
    witnessed = verify_ledger(path, policy_signing_key=key, witness=witness)
    expect(witnessed.strict_ok, f"the witnessed ledger gave {witnessed.verdict}")
    for suffix, data in saved.items():  # restore the earlier, self-consistent copy
        Path(f"{path}{suffix}").write_bytes(data)
    alone = verify_ledger(path)
    expect(alone.intact, "the restored copy should look intact on its own")
    rolled = _kinds(path, policy_signing_key=key, witness=witness)
    expect("rolled-back" in rolled, f"with the witness the rollback gave {rolled}")
    expect("below-min-seq" in _kinds(path, min_seq=newest), "--min-seq missed the rollback")
    detail = (
        f"rollback from seq {newest} to seq {_events(path)[-1]['seq']} with the old head: "
        "intact alone, caught by the witness (rolled-back) and by --min-seq"
    )
    c.evidence = [s.rel(path), s.rel(witness)]
    if not s.siem_configured:
        # Without a SIEM or a witness file the organisation keeps no head outside the ledger:
        # the witness part proves what qgov can do, not what this organisation does (LOG-07).
        unused = () if s.witness_configured else ("LOG-07",)
        c.skip(
            "signed heads in the SIEM: the policy forwards no events (siem.syslog)"
            + ("" if s.witness_configured else " and names no witness file (ledger.witness)"),
            *unused,
        )
        c.detail = detail
        return
    # The SIEM holds the scenario's signed heads too: the newest verifies and matches.
    s.drain()
    heads = [
        json.loads(frame[frame.index(b" - {") + 3 :])["unmapped"]["ledger"]
        for frame in s.frames
        if b'"type":"ledger.head"' in frame
    ]
    expect(bool(heads), "no signed head reached the SIEM")
    last = heads[-1]
    scenario_key = load_signing_key(s.ctx.signing_key).public_key()
    payload = head_payload(last["ledger_id"], last["seq"], last["hash"], last["signed_at"])
    expect(signature_valid(scenario_key, last["signature"], payload), "SIEM head: bad signature")
    c.detail = f"{detail}; {len(heads)} signed heads reached the SIEM, the newest verifies"


@check(
    "ledger-exact-bytes",
    "Only the canonical bytes verify; damaged lines are reported, never crash",
    ["LOG-02"],
)
def check_exact_bytes(s: Scenario, c: CheckResult) -> None:
    folder = _folder(s, "bytes")
    applicable(s.ctx.ledger_path.exists(), "no job reached the ledger (see the checks above)")
    original = s.ctx.ledger_path.read_text(encoding="utf-8").splitlines(keepends=True)
    applicable(len(original) > 6, "the ledger holds too few events for the byte tests")
    spaced = json.dumps(json.loads(original[5]), sort_keys=True) + "\n"
    duplicated = original[4].replace('{"actor"', '{"decision":"deny","actor"', 1)
    cases = {
        "whitespace": ([*original[:5], spaced, *original[6:]], "non-canonical", 6),
        "crlf": ([x.replace("\n", "\r\n") for x in original], "non-canonical", 1),
        "duplicate-key": ([*original[:4], duplicated, *original[5:]], "duplicate-key", 5),
        "deep-nesting": (
            [*original[:5], "[" * 100_000 + "]" * 100_000 + "\n", *original[6:]],
            "unparseable",
            6,
        ),
    }
    found = []
    for name, (lines, kind, line) in cases.items():
        target = folder / f"ledger-{name}.jsonl"
        target.write_text("".join(lines), encoding="utf-8")
        shutil.copy(f"{s.ctx.ledger_path}.pub", f"{target}.pub")
        shutil.copy(f"{s.ctx.ledger_path}.head", f"{target}.head")
        problems = [p for p in verify_ledger(target).problems if p.kind == kind]
        expect(bool(problems) and problems[0].line == line, f"{name}: {kind} not at line {line}")
        found.append(f"{name}->{kind}@line {line}")
        c.evidence.append(s.rel(target))
    c.detail = "caught: " + "; ".join(found)


@check(
    "ledger-links-refused",
    "Planted symlinks and non-files in the ledger's place are refused, never followed",
    ["LOG-02"],
)
def check_links(s: Scenario, c: CheckResult) -> None:
    folder = _folder(s, "links")
    victim = folder / "victim.txt"
    victim.write_text("must stay as it is\n", encoding="utf-8")
    assert s.ctx.signing_key is not None
    key = s.ctx.signing_key.with_name("links-ledger.key")
    if key.exists():
        key.unlink()
    path = folder / "ledger.jsonl"
    Ledger(path, signing_key=key).append("job.decision")
    # The names the old writer's temporary files had, planted as links.
    for name in ("ledger.jsonl.head", "ledger.jsonl.pub"):
        (folder / f".{name}.{os.getpid()}.tmp").symlink_to(victim)
    Ledger(path, signing_key=key).append("job.decision")
    refused = []
    for name in ("ledger.jsonl.head", "ledger.jsonl.lock"):
        target = folder / name
        if target.exists():
            target.rename(folder / f"{name}.saved")
        target.symlink_to(victim)
        try:
            Ledger(path, signing_key=key).append("job.decision")
        except LedgerError:
            refused.append(name)
        target.unlink()
        saved = folder / f"{name}.saved"
        if saved.exists():
            saved.rename(target)
    box = folder / "a-folder"
    box.mkdir()
    try:
        Ledger(box)
    except LedgerError:
        refused.append("a folder as ledger")
    expect(victim.read_text(encoding="utf-8") == "must stay as it is\n", "the victim changed")
    expect(len(refused) == 3, f"refused only: {refused}")
    expect(not Path(f"{box}.lock").exists(), "a lock was created beside the folder")
    expect(verify_ledger(path, policy_signing_key=key).strict_ok, "the ledger was damaged")
    c.detail = (
        "planted temp-name links ignored; a symlinked head and lock refused; a folder as "
        "ledger refused without creating anything beside it; the link target unchanged"
    )
    c.evidence = [s.rel(path)]

"""Self-test checks of the evidence trail: failed runs recorded, logs scrubbed, tampering
detected, replays matching, events reaching the SIEM."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable

from scanner.governed.canonical import canonical_json
from scanner.governed.ledger import event_hash, verify_ledger
from scanner.governed.replay import replay
from scanner.governed.runtime import Runtime
from scanner.governed.selftest.registry import CheckResult, applicable, check, expect
from scanner.governed.selftest.scenario import BELL, DATASET, Scenario
from scanner.governed.siem import parse_frame


@check(
    "failed-job-recorded",
    "A job failing in the simulator is recorded as failed",
    ["LOG-01", "PRV-01"],
)
def check_failed_job(s: Scenario, c: CheckResult) -> None:
    s.require_main()
    case = s.failing_case()
    token = s.token(case.subject) if case.subject else None
    outcome = s.run("simulator-failure", token=token, ctx=case.ctx, **case.overrides)
    expect(outcome.status == "failed", f"expected a failed run, got {outcome.status}")
    expect(outcome.record_path is not None, "the failed run left no record")
    failed = [e for e in s.events_for(outcome) if e["type"] == "job.failed"]
    expect(
        len(failed) == 1 and failed[0]["data"]["error"],
        "job.failed with the error is not in the ledger",
    )
    c.detail = f"{case.note} was recorded as failed ({outcome.error})"
    c.evidence = [s.rel(outcome.record_path)] if outcome.record_path else []


@check("log-scrubbed", "Logs and ledger carry hashes, never circuits, data or tokens", ["LOG-03"])
def check_scrubbed(s: Scenario, c: CheckResult) -> None:
    s.require_main()  # the logs must hold a job's lines
    # A careless log call through the governed logger: the scrubber must still catch it.
    with Runtime(s.ctx) as rt:
        leak_token = s.token()
        rt.scrubber.register("token", leak_token)
        rt.scrubber.register("circuit", BELL, by_line=True)
        rt.scrubber.register("dataset", DATASET, by_line=True)
        rt.log.info("careless debug line: token=%s circuit=%s rows=%s", leak_token, BELL, DATASET)
    log = (s.out / "run.log").read_text(encoding="utf-8")
    ledger = s.ctx.ledger_path.read_text(encoding="utf-8")
    secrets = [("token", t) for t in s.minted if len(t) > 20]
    secrets += [
        ("circuit line", line.strip()) for line in BELL.splitlines() if len(line.strip()) >= 12
    ]
    secrets += [("circuit text", BELL), ("dataset row", DATASET.splitlines()[1])]
    for label, value in secrets:
        expect(value not in log, f"the run log contains a {label}")
        expect(value not in ledger, f"the ledger contains a {label}")
    expect(
        "[scrubbed token" in log and "[scrubbed circuit" in log,
        "the careless line was not scrubbed",
    )
    expect("circuit_sha256=" in log, "the log does not carry circuit hashes")
    c.detail = (
        f"run log ({len(log.splitlines())} lines) and ledger hold circuit hashes and sizes but "
        f"no circuit text, dataset rows or any of {len(s.minted)} tokens; a deliberate leak "
        "was scrubbed"
    )
    c.evidence = ["run.log"]


@check("ledger-tamper-detected", "Ledger verification catches tampering", ["LOG-02"])
def check_tamper(s: Scenario, c: CheckResult) -> None:
    original = s.ctx.ledger_path
    applicable(original.exists(), "no job reached the ledger (see the checks above)")
    expect(verify_ledger(original).intact, "the untouched ledger does not verify")
    lines = original.read_text(encoding="utf-8").splitlines(keepends=True)
    applicable(len(lines) > 12, "the ledger holds too few events for the tamper test")
    folder = s.out / "tampered"
    folder.mkdir(exist_ok=True)

    def edited(ls: list[str]) -> list[str]:
        event = json.loads(ls[5])
        event["actor"] = {"subject": "mallory@selftest.invalid", "kind": "human"}
        return [*ls[:5], json.dumps(event) + "\n", *ls[6:]]

    def rehashed(ls: list[str]) -> list[str]:
        # Edit, then recompute every later hash and link: only the signatures can catch it.
        out, prev = list(ls[:5]), json.loads(ls[4])["hash"]
        for n, raw in enumerate(ls[5:]):
            event = json.loads(raw)
            if n == 0:
                event["decision"] = "allow"
            event["prev"] = prev
            event["hash"] = event_hash(event)
            prev = event["hash"]
            out.append(canonical_json(event).decode() + "\n")
        return out

    def inserted(ls: list[str]) -> list[str]:
        forged = json.loads(ls[6])
        forged["id"] = "forged"
        forged["hash"] = event_hash(forged)
        return [*ls[:7], canonical_json(forged).decode() + "\n", *ls[7:]]

    cases: dict[str, tuple[Callable[[list[str]], list[str]], set[str]]] = {
        "edited": (edited, {"hash-mismatch"}),
        "deleted": (lambda ls: ls[:4] + ls[5:], {"sequence-gap", "chain-broken"}),
        "inserted": (inserted, {"sequence-order", "chain-broken"}),
        "reordered": (
            lambda ls: [*ls[:4], ls[5], ls[4], *ls[6:]],
            {"sequence-order", "chain-broken"},
        ),
        "truncated": (lambda ls: ls[:-3], {"truncated"}),
        "rehashed": (rehashed, {"checkpoint-mismatch", "head-mismatch"}),
    }
    found = []
    for name, (mutate, expected) in cases.items():
        target = folder / f"ledger-{name}.jsonl"
        target.write_text("".join(mutate(lines)), encoding="utf-8")
        shutil.copy(str(original) + ".pub", str(target) + ".pub")
        shutil.copy(str(original) + ".head", str(target) + ".head")
        report = verify_ledger(target)
        kinds = {p.kind for p in report.problems}
        expect(
            not report.intact and bool(kinds & expected),
            f"{name}: verification reported {sorted(kinds)}",
        )
        first = report.problems[0]
        found.append(
            f"{name}->{first.kind}@line {first.line}" if first.line else f"{name}->{first.kind}"
        )
        c.evidence.append(s.rel(target))
    c.detail = "original intact; caught: " + "; ".join(found)


@check("replay-matches", "A recorded execution replays to the same result hash", ["PRV-02"])
def check_replay(s: Scenario, c: CheckResult) -> None:
    allowed = s.outcomes.get("allowed")
    applicable(allowed is not None or s.main is not None, s.no_main)
    expect(
        allowed is not None and allowed.record_path is not None, "no record from the allowed job"
    )
    assert allowed is not None and allowed.record_path is not None
    outcome = replay(allowed.record_path, s.ctx)
    expect(outcome.matched, f"replay did not match: {outcome.problems}")
    forged = s.out / "replay" / "edited-record.json"
    forged.parent.mkdir(exist_ok=True)
    data = json.loads(allowed.record_path.read_text(encoding="utf-8"))
    data["result"]["counts_sha256"] = "f" * 64
    forged.write_text(json.dumps(data, indent=2), encoding="utf-8")
    mismatch = replay(forged, s.ctx, circuit_path=s.out / "jobs" / "bell.qasm")
    expect(not mismatch.matched, "an edited record still replayed as a match")
    c.detail = (
        f"replay reproduced counts hash {(outcome.replay_counts_sha256 or '-')[:16]}...; "
        "an edited record was reported as a mismatch"
    )
    c.evidence = [s.rel(allowed.record_path)]


@check("siem-forwarded", "Events reach a SIEM collector as OCSF JSON", ["LOG-07"])
def check_siem(s: Scenario, c: CheckResult) -> None:
    s.require_main()  # the events to forward come from its jobs
    applicable(
        s.siem_configured,
        "the policy forwards no events to a SIEM (siem.syslog is not set); configure it to "
        "evidence central retention",
    )
    s.drain()
    raw_frames = s.frames
    received = [parse_frame(frame) for frame in raw_frames]
    (s.out / "siem-events.jsonl").write_text(
        "".join(json.dumps(e, sort_keys=True) + "\n" for e in received), encoding="utf-8"
    )
    classes = {e["class_uid"] for e in received}
    expect({3002, 6003} <= classes, f"OCSF classes received: {sorted(classes)}")
    expect(
        all(e["type_uid"] == e["class_uid"] * 100 + e["activity_id"] for e in received),
        "bad type_uid",
    )
    blob = b"".join(raw_frames).decode("utf-8", "replace")
    expect(not any(t in blob for t in s.minted if len(t) > 20), "a token reached the SIEM")
    expect(BELL not in blob, "circuit text reached the SIEM")
    c.detail = f"{len(received)} OCSF events received over syslog/UDP (classes {sorted(classes)})"
    c.evidence = ["siem-events.jsonl"]

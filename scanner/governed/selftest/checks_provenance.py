"""Self-test checks of the execution record's provenance and of the provider adapters: the
same gate in front of qiskit-ibm-runtime's local mode and Amazon Braket's local simulator."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from scanner.governed import environment
from scanner.governed.record import read_record
from scanner.governed.replay import replay
from scanner.governed.selftest.registry import CheckResult, applicable, check, expect
from scanner.governed.selftest.scenario import Scenario
from scanner.governed.service import run_job


def _folder(s: Scenario, name: str) -> Path:
    folder = s.out / name
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


@check(
    "record-provenance",
    "The execution record names code commit, image, environment hash and calibration",
    ["PRV-01", "PRV-03"],
)
def check_provenance(s: Scenario, c: CheckResult) -> None:
    allowed = s.outcomes.get("allowed")
    applicable(allowed is not None or s.main is not None, s.no_main)
    expect(
        allowed is not None and allowed.record_path is not None, "no record from the allowed job"
    )
    assert allowed is not None and allowed.record_path is not None
    record = read_record(allowed.record_path)
    found = record.provenance
    expect(found is not None, "the record has no provenance section")
    assert found is not None
    now = environment.environment_hash()
    expect(found.environment.sha256 == now["sha256"], "the environment hash does not recompute")
    spec_folder = Path(record.job["spec_path"]).parent
    expect(
        found.code.commit == environment.code_commit(spec_folder)["commit"],
        "the recorded commit is not the spec folder's",
    )
    calibration = record.backend.calibration or {}
    if (record.backend.provider or "aer") == "aer":
        expect(calibration.get("kind") == "aer-configuration", "no backend calibration reference")
    else:
        expect(bool(calibration), "no backend calibration reference")
    # The commit reader on a work tree of its own (git's files as git writes them).
    folder = _folder(s, "provenance")
    git = folder / "repo" / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    commit = "0123456789abcdef0123456789abcdef01234567"
    (git / "refs" / "heads" / "main").write_text(commit + "\n", encoding="utf-8")
    (folder / "repo" / "jobs").mkdir()
    expect(
        environment.code_commit(folder / "repo" / "jobs")["commit"] == commit,
        "the commit of a work tree was not read",
    )
    image = found.container.image_digest or "none"
    c.detail = (
        f"environment sha256 {found.environment.sha256[:16]}... over "
        f"{found.environment.distributions} distributions (recomputed), commit "
        f"{found.code.commit or 'none (' + found.code.source + ')'}, image {image} "
        f"({found.container.source}), calibration {calibration.get('sha256', '')[:16]}...; "
        "a work tree's commit is read from its .git files"
    )
    c.evidence = [s.rel(allowed.record_path)]


@check(
    "provider-adapters",
    "IBM Runtime (local) and Braket (local) runs pass the same gate and are recorded",
    ["LOG-01", "PRV-01"],
)
def check_adapters(s: Scenario, c: CheckResult) -> None:
    s.require_main()
    folder = _folder(s, "providers")
    case = s.providers_case(folder)
    ctx = case.ctx
    found: list[str] = []
    notes: list[str] = []
    for name, backend in case.runs:
        outcome = run_job(s.spec(name, backend=backend), ctx, token=s.token(case.subject))
        s.drain()
        expect(outcome.status == "completed", f"{backend}: {outcome.status} {outcome.error}")
        assert outcome.record_path is not None
        record = read_record(outcome.record_path)
        info = record.backend
        expect(bool(info.provider_job_id), f"{backend}: no provider job id in the record")
        expect(bool(info.calibration), f"{backend}: no calibration reference in the record")
        logged = [
            e
            for e in s.events_for(outcome)
            if e["type"] == "job.executed"
            and e["data"].get("provider_job_id") == info.provider_job_id
        ]
        expect(len(logged) == 1, f"{backend}: the run is not in the ledger with its job id")
        found.append(f"{info.provider}/{info.simulator} job {info.provider_job_id}")
        c.evidence.append(s.rel(outcome.record_path))
        if backend == case.replay_backend:
            again = replay(outcome.record_path, ctx)
            expect(again.matched and again.result_compared, "the fake IBM run did not replay")
            notes.append("the IBM run replayed bit for bit")
    if case.over_limit is not None:
        backend, shots = case.over_limit
        refused = run_job(
            s.spec("on-provider-over", backend=backend, shots=shots),
            ctx,
            token=s.token(case.subject),
        )
        expect(
            refused.status == "refused" and refused.record_path is None,
            f"an over-limit job on {backend} was not refused before running",
        )
        notes.append(f"an over-limit job on {backend} was refused before the SDK")
    if case.cloud is None:
        c.skip("a cloud provider backend: the policy names none the self-test can use")
    else:
        cloud = run_job(s.spec("on-cloud", backend=case.cloud), ctx, token=s.token(case.subject))
        s.drain()
        expect(
            cloud.status == "failed" and "not run here" in (cloud.error or ""),
            f"a cloud provider was not refused: {cloud.status} {cloud.error}",
        )
        notes.append(f"a real cloud backend ({case.cloud}) was refused ('not run here')")
    (folder / "runs.json").write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")
    c.detail = "; ".join(found + notes)

"""`qgov job approve` and `qgov job drill` on the shipped samples, as `make demo` and
`make test` run them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from scanner.governed.ledger import verify_ledger
from tests.governed.helpers import qgov
from tests.governed.test_governed_cli import POLICY, mint_demo

EXPORT_SPEC = "samples/jobs/bell-export.yaml"


def test_sample_export_needs_a_signed_approval(
    demo: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    counts = demo / "counts.json"
    run = ["job", "run", EXPORT_SPEC, "--policy", POLICY, "--export", str(counts)]
    assert qgov(*run) == 1  # the job runs; the export is refused: CHG-1234 is not granted yet
    assert "[APPROVAL_UNKNOWN]" in capsys.readouterr().out and not counts.exists()

    bob = mint_demo(demo, "bob@example.org")
    approve = [
        "job", "approve", EXPORT_SPEC, "--policy", POLICY, "--action", "export",
        "--requester", "alice@example.org", "--reason", "CHG-1234 share Bell counts",
    ]
    assert qgov(*approve, "--token", str(bob), "--expires", "30m") == 0
    out = capsys.readouterr().out
    assert out.startswith("APPROVED: approval CHG-1234") and "single use" in out
    assert bob.read_text().strip() not in out

    assert qgov(*run) == 0 and counts.exists()
    capsys.readouterr()
    assert qgov(*run) == 1  # single use (the sample policy says so)
    assert "[APPROVAL_USED]" in capsys.readouterr().out

    # The approver's token was spent; the requester may not approve their own export.
    assert qgov(*approve, "--token", str(bob)) == 1
    assert "[TOKEN_REPLAYED]" in capsys.readouterr().out
    alice = mint_demo(demo)
    assert qgov(*approve, "--token", str(alice), "--format", "json") == 1
    payload = json.loads(capsys.readouterr().out)
    codes = {r["code"] for r in payload["reasons"]}
    assert {"APPROVAL_SELF_APPROVED", "APPROVER_NOT_AUTHORISED"} <= codes
    assert verify_ledger(demo / ".qgov" / "ledger.jsonl").intact


def test_a_forged_approvals_file_does_not_export(
    demo: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    forged = demo / "approvals.yaml"
    forged.write_text(
        yaml.safe_dump(
            {
                "approvals": [
                    {
                        "id": "CHG-1234",
                        "action": "export",
                        "requester": "alice@example.org",
                        "approver": "bob@example.org",
                        "reason": "written by anyone",
                        "approved_at": "2026-01-01T00:00:00Z",
                        "expires_at": "2036-01-01T00:00:00Z",
                    }
                ]
            }
        )
    )
    counts = demo / "counts.json"
    argv = ["job", "run", EXPORT_SPEC, "--policy", POLICY, "--export", str(counts)]
    assert qgov(*argv, "--approvals", str(forged)) == 1
    assert "[APPROVAL_UNSIGNED]" in capsys.readouterr().out and not counts.exists()


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--expires", "tomorrow-ish"], "not a duration"),
        (["--expires", "0m"], "positive"),
        (["--action", "run-regulated"], "no approval id"),
    ],
)
def test_approve_input_errors_exit_2(
    demo: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str  # noqa: F811
) -> None:
    bob = mint_demo(demo, "bob@example.org")
    base = {
        "--action": "export",
        "--requester": "alice@example.org",
        "--reason": "r",
        "--token": str(bob),
    }
    base.update(dict(zip(argv[::2], argv[1::2], strict=True)))
    flat = [part for pair in base.items() for part in pair]
    assert qgov("job", "approve", EXPORT_SPEC, "--policy", POLICY, *flat) == 2
    assert needle in capsys.readouterr().err


@pytest.mark.parametrize("drill", ["token-leak", "access-compromise", "unauthorized-export"])
def test_drills_against_the_sample_policy(
    demo: Path, capsys: pytest.CaptureFixture[str], drill: str  # noqa: F811
) -> None:
    out = demo / "drills" / drill
    assert qgov("job", "drill", drill, "--policy", POLICY, "--out", str(out)) == 0, (
        capsys.readouterr().out
    )
    report = json.loads((out / "drill.json").read_text())
    assert report["drill"] == drill and report["summary"]["failed"] == 0
    assert report["summary"]["skipped"] == 0 and report["summary"]["passed"] >= 3
    ledger_lines = set((out / "ledger.jsonl").read_bytes().splitlines())
    for step in report["steps"]:
        assert step["status"] == "pass", step
        details = json.loads((out / step["evidence"]["details"]).read_text())
        assert details["observed"] == step["observed"]
        excerpt = (out / step["evidence"]["ledger_excerpt"]).read_bytes().splitlines()
        assert excerpt and set(excerpt) <= ledger_lines  # verbatim lines of the ledger
    assert verify_ledger(out / "ledger.jsonl").intact
    assert not any(
        "PRIVATE KEY" in p.read_text(errors="ignore") for p in out.rglob("*") if p.is_file()
    )
    # Drills never touch the organisation's policy or the default ledger.
    assert not (demo / ".qgov").exists()


def test_drill_refuses_a_policy_that_cannot_host_it(
    demo: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    argv = ["job", "drill", "token-leak", "--policy", POLICY, "--out", str(demo / "d")]
    assert qgov(*argv, "--subject", "workload:nightly-benchmarks") == 2
    assert "cannot host this drill" in capsys.readouterr().err


def test_drill_reports_a_control_that_does_not_hold(
    demo: Path, capsys: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    policy = yaml.safe_load((demo / POLICY).read_text())
    policy["elevation"]["export_requires_approval"] = False  # exports need no approval
    lax = demo / "lax-policy.yaml"
    lax.write_text(yaml.safe_dump(policy))
    out = demo / "lax"
    assert qgov("job", "drill", "unauthorized-export", "--policy", str(lax), "--out", str(out)) == 1
    report = json.loads((out / "drill.json").read_text())
    assert report["steps"][0]["status"] == "fail"


def test_concurrent_uses_of_one_token_spend_it_once(demo: Path) -> None:  # noqa: F811
    import os
    import subprocess
    import sys

    token = mint_demo(demo)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    argv = [sys.executable, "-m", "scanner", "job", "run", "samples/jobs/bell.yaml"]
    argv += ["--policy", POLICY, "--token", str(token), "--format", "json"]
    runs = [
        subprocess.Popen(argv, cwd=demo, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    results = [(run.wait(timeout=120), run.communicate()[0]) for run in runs]
    assert sorted(code for code, _ in results) == [0, 1, 1, 1]
    for code, out in results:
        if code == 1:
            reasons = json.loads(out)["decision"]["reasons"]
            assert [r["code"] for r in reasons] == ["TOKEN_REPLAYED"]
    assert verify_ledger(demo / ".qgov" / "ledger.jsonl").intact

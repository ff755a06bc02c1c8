"""`qgov job|ledger|token` through an argparse root built like the main CLI builds it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from scanner.governed.tokens import private_key_pem
from tests.governed.helpers import qgov

POLICY = "samples/policy/org-policy.yaml"
BELL = "samples/jobs/bell.yaml"
CATALOG_IDS = {
    "SEC-05",
    *(f"IAM-0{n}" for n in range(1, 10)),
    *(f"DAT-0{n}" for n in range(1, 6)),
    *(f"LOG-0{n}" for n in range(1, 8)),
    *(f"PRV-0{n}" for n in range(1, 5)),
    *(f"CST-0{n}" for n in range(1, 4)),
    *(f"GOV-0{n}" for n in range(1, 6)),
}



def test_sample_run_needs_no_setup(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert qgov("job", "run", BELL, "--policy", POLICY) == 0
    out = capsys.readouterr().out
    assert out.startswith("COMPLETED: job bell-pair-demo")
    assert "alice@example.org" in out and ".qgov/ledger.jsonl" in out
    assert qgov("job", "run", BELL, "--policy", POLICY, "--format", "json") == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["status"] == "completed" and payload["decision"]["verdict"] == "allow"
    assert payload["identity_source"].startswith("demo identity alice@example.org")
    assert "eyJ" not in json.dumps(payload)  # no token in the output
    ledger = demo / ".qgov" / "ledger.jsonl"
    assert ledger.read_text().count('"type":"job.executed"') == 2

    assert qgov("ledger", "verify", str(ledger)) == 0
    assert capsys.readouterr().out.startswith("INTACT:")
    record = payload["record"]
    assert qgov("job", "replay", record) == 0
    assert capsys.readouterr().out.startswith("MATCH: record")


def test_refused_job_exit_1_with_reasons(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert qgov("job", "run", "samples/jobs/regulated-data-in-dev.yaml", "--policy", POLICY) == 1
    out = capsys.readouterr().out
    assert out.startswith("REFUSED:") and "[DATA_CLASS_NOT_ALLOWED_FOR_TIER]" in out
    assert "(DAT-01, DAT-03)" in out


def test_custom_ledger_location_and_env(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert qgov("job", "run", BELL, "--policy", POLICY, "--ledger", "audit/l.jsonl") == 0
    assert (demo / "audit" / "l.jsonl").exists() and (demo / "audit" / "records").is_dir()
    assert (demo / "audit" / "l.jsonl.pub").exists() and not (
        demo / "audit" / "l.jsonl.key"
    ).exists()
    monkeypatch.setenv("QGOV_LEDGER", str(demo / "env" / "ledger.jsonl"))
    assert qgov("job", "run", BELL, "--policy", POLICY) == 0
    assert (demo / "env" / "ledger.jsonl").exists() and not (demo / ".qgov").exists()


def test_tampered_ledger_exit_1_names_the_line(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert qgov("job", "run", BELL, "--policy", POLICY) == 0
    ledger = demo / ".qgov" / "ledger.jsonl"
    text = ledger.read_text().replace('"decision":"allow"', '"decision":"deny"', 1)
    ledger.write_text(text)
    capsys.readouterr()
    assert qgov("ledger", "verify", str(ledger), "--format", "json") == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["intact"] and report["problems"][0]["kind"] == "hash-mismatch"
    assert qgov("ledger", "verify", str(ledger)) == 1
    assert re.search(r"line \d+ \(seq \d+\): hash-mismatch", capsys.readouterr().out)


def mint_demo(demo: Path, subject: str = "alice@example.org") -> Path:
    token_file = demo / f"{subject.split('@')[0]}-{len(list(demo.glob('*.jwt')))}.jwt"
    argv = ["token", "mint", "--demo", "--policy", POLICY, "--subject", subject]
    assert qgov(*argv, "--out", str(token_file)) == 0
    return token_file


def test_tokens_from_file_stdin_and_env(
    demo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = mint_demo(demo)
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    assert qgov("job", "run", BELL, "--policy", POLICY, "--token", str(token_file)) == 0
    tokens = [token_file.read_text().strip()]
    tokens.append(mint_demo(demo).read_text().strip())  # a token is good for one request
    monkeypatch.setenv("ALICE_TOKEN", tokens[-1])
    assert qgov("job", "run", BELL, "--policy", POLICY, "--token-env", "ALICE_TOKEN") == 0
    import io

    tokens.append(mint_demo(demo).read_text().strip())
    monkeypatch.setattr("sys.stdin", io.StringIO(tokens[-1] + "\n"))
    assert qgov("job", "run", BELL, "--policy", POLICY, "--token", "-") == 0
    out = capsys.readouterr().out
    for token in tokens:
        assert token not in out and token not in (demo / ".qgov" / "governed.log").read_text()
        assert token not in (demo / ".qgov" / "ledger.jsonl").read_text()
    # The same token again: a replay, refused and logged.
    assert qgov("job", "run", BELL, "--policy", POLICY, "--token", str(token_file)) == 1
    assert "[TOKEN_REPLAYED]" in capsys.readouterr().out


def test_token_mint_to_stdout_and_with_own_key(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert qgov("token", "mint", "--demo", "--subject", "x", "--kind", "human") == 0
    assert capsys.readouterr().out.count(".") == 2
    key = demo / "k.pem"
    key.write_bytes(private_key_pem(ed25519.Ed25519PrivateKey.generate()))
    assert (
        qgov(
            "token",
            "mint",
            "--key",
            str(key),
            "--issuer",
            "https://i",
            "--audience",
            "a",
            "--subject",
            "s",
            "--kind",
            "service",
        )
        == 0
    )
    capsys.readouterr()
    assert qgov("token", "mint", "--key", str(key), "--subject", "s") == 2
    assert "--issuer" in capsys.readouterr().err
    assert (
        qgov("token", "mint", "--demo", "--subject", "s", "--kind", "human", "--ttl", "86400") == 2
    )


def test_forged_token_is_refused(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = demo / "k.pem"
    key.write_bytes(private_key_pem(ed25519.Ed25519PrivateKey.generate()))
    forged = demo / "forged.jwt"
    assert (
        qgov(
            "token",
            "mint",
            "--key",
            str(key),
            "--issuer",
            "https://demo.qgov.invalid/issuer",
            "--audience",
            "qgov-governed-jobs",
            "--subject",
            "alice@example.org",
            "--kind",
            "human",
            "--out",
            str(forged),
        )
        == 0
    )
    assert qgov("job", "run", BELL, "--policy", POLICY, "--token", str(forged)) == 1
    assert "[TOKEN_BAD_SIGNATURE]" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["job", "run", "samples/jobs/missing.yaml", "--policy", POLICY], "cannot read"),
        (["job", "run", BELL, "--policy", "samples/policy/none.yaml"], "cannot read"),
        (
            ["job", "run", BELL, "--policy", POLICY, "--demo-identity", "svc:risk-pilot-scheduler"],
            "not a demo issuer",
        ),
        (["job", "run", BELL, "--policy", POLICY, "--demo-identity", "nobody"], "not listed"),
        (["job", "run", BELL, "--policy", POLICY, "--token-env", "QGOV_UNSET_VAR"], "not set"),
        (["ledger", "verify", "nope.jsonl"], "cannot read"),
        (["job", "replay", "nope.json"], "cannot read"),
    ],
)
def test_errors_exit_2_without_traceback(
    demo: Path, capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    assert qgov(*argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("qgov: error:") and needle in err and "Traceback" not in err


def test_malformed_spec_and_policy_name_the_field(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = demo / "samples" / "jobs" / "bad.yaml"
    spec.write_text((demo / BELL).read_text().replace("shots: 1024", "shots: -1"))
    assert qgov("job", "run", str(spec), "--policy", POLICY) == 2
    assert "field 'shots'" in capsys.readouterr().err
    policy = demo / "bad-policy.yaml"
    policy.write_text((demo / POLICY).read_text().replace("max_shots: 8192", "max_shots: lots"))
    assert qgov("job", "run", BELL, "--policy", str(policy)) == 2
    assert "field 'roles.0.max_shots'" in capsys.readouterr().err
    assert not (demo / ".qgov").exists()  # nothing was half-started


def test_usage_errors_are_exit_2(demo: Path) -> None:
    with pytest.raises(SystemExit) as info:
        qgov("job", "run", BELL)  # --policy is required
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        qgov("job", "run", BELL, "--policy", POLICY, "--token", "x", "--token-env", "Y")
    assert info.value.code == 2


def test_selftest_writes_evidence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "evidence"
    assert qgov("job", "selftest", "--out", str(out)) == 0
    text = capsys.readouterr().out
    assert "0 failed" in text
    report = json.loads((out / "selftest.json").read_text())
    assert report["tool"]["name"] == "qgov" and report["generated_at"].endswith("Z")
    ids = {c["id"] for c in report["checks"]}
    assert {
        "allowed-job-runs",
        "expired-role-refused",
        "wrong-environment-refused",
        "regulated-data-refused",
        "approval-required",
        "quota-exhausted-refused",
        "forged-token-refused",
        "log-scrubbed",
        "ledger-tamper-detected",
        "replay-matches",
    } <= ids
    for check in report["checks"]:
        assert set(check) >= {"id", "title", "control_ids", "status", "detail"}
        assert check["status"] == "pass", check
        assert check["control_ids"] and set(check["control_ids"]) <= CATALOG_IDS
    assert report["summary"]["failed"] == 0 and report["summary"]["passed"] == len(ids)
    assert report["summary"]["not_exercised"] == 0
    assert report["policy"]["source"] == "built-in" and report["policy"]["id"] == "qgov-selftest"
    for name in ("ledger.jsonl", "ledger.jsonl.pub", "ledger.jsonl.head", "run.log", "policy.yaml"):
        assert (out / name).is_file(), name
    assert report["evidence"]["records"] and all(
        (out / r).is_file() for r in report["evidence"]["records"]
    )
    # No private key is left in the evidence folder.
    assert not any(
        "PRIVATE KEY" in p.read_text(errors="ignore") for p in out.rglob("*") if p.is_file()
    )
    assert qgov("ledger", "verify", str(out / "ledger.jsonl")) == 0


def test_unusable_ledger_is_exit_2(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert qgov("job", "run", BELL, "--policy", POLICY) == 0
    with (demo / ".qgov" / "ledger.jsonl").open("ab") as handle:
        handle.write(b'{"seq":')
    capsys.readouterr()
    assert qgov("job", "run", BELL, "--policy", POLICY) == 2
    err = capsys.readouterr().err
    assert "torn" in err and "Traceback" not in err
    assert qgov("ledger", "verify", ".qgov/ledger.jsonl") == 1
    assert "torn-write" in capsys.readouterr().out


def test_unwritable_records_folder_is_exit_2(
    demo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (demo / "blocker").write_text("a file where a folder should be")
    assert qgov("job", "run", BELL, "--policy", POLICY, "--records", "blocker/records") == 2
    assert "execution record could not be written" in capsys.readouterr().err
    ledger = demo / ".qgov" / "ledger.jsonl"
    assert '"RecordWriteError"' in ledger.read_text()  # the run is still accounted for
    assert qgov("ledger", "verify", str(ledger)) == 0

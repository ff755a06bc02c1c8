"""`qgov vendor assess|compare` through ``scanner.cli.main``: exit codes, outputs, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import GENERIC, IONQ_KEY
from tests.helpers import REPO
from tests.vendors.profiles import FULL, SAMPLE_VENDORS, full, write

HELIOS = str(SAMPLE_VENDORS / "helios-quantum-cloud.yaml")
FORGE = str(SAMPLE_VENDORS / "qubitforge.yaml")
ALL = [str(p) for p in sorted(SAMPLE_VENDORS.glob("*.yaml"))]
DAY = ["--today", "2026-11-29"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["vendor", *argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "internal error" not in captured.err
    return code, captured.out, captured.err


# --- exit codes -------------------------------------------------------------------------------------


def test_assess_exit_0_when_approvable_even_with_compensating_controls(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "assess", HELIOS, "--tier", "regulated-pilot", *DAY)
    assert code == 0 and "APPROVABLE WITH COMPENSATING CONTROLS" in out


def test_assess_exit_1_when_any_vendor_is_not_approvable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "assess", HELIOS, FORGE, "--tier", "regulated-pilot", *DAY)
    assert code == 1 and "NOT APPROVABLE" in out
    assert run(capsys, "assess", FORGE, "--tier", "exploratory", *DAY)[0] == 0


def test_compare_exit_0_and_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compare", *ALL, "--tier", "regulated-pilot", *DAY)
    assert code == 0
    assert "Vendor comparison · tier regulated-pilot · 2026-11-29" in out
    assert "Verdict                         YES+CC     NO         NO         NO" in out


def test_default_tier_is_internal_pilot(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "compare", *ALL, *DAY)
    assert "tier internal-pilot" in out


def test_folder_stands_for_its_profiles(capsys: pytest.CaptureFixture[str]) -> None:
    by_folder = run(capsys, "compare", str(SAMPLE_VENDORS), *DAY)
    by_files = run(capsys, "compare", *ALL, *DAY)
    assert by_folder[1] == by_files[1]


def test_data_option_requires_a_baa(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "assess", HELIOS, "--data", "health", "--format", "json", *DAY)
    assert code == 0
    (entry,) = json.loads(out)["assessments"]
    baa = next(o for o in entry["outcomes"] if o["requirement"] == "hipaa_baa")
    assert baa["status"] == "met" and entry["data"] == ["health", "personal"]


# --- formats and files ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["assess", "compare"])
def test_output_is_reproducible_with_today(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for output_format in ("text", "json", "html"):
        first = run(capsys, command, *ALL, "--format", output_format, *DAY)[1]
        assert first == run(capsys, command, *ALL, "--format", output_format, *DAY)[1]
        assert "2026-11-29" in first


def test_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "vendors.html"
    code, out, err = run(capsys, "compare", *ALL, "--format", "html", "-o", str(target), *DAY)
    assert code == 0 and out == ""
    assert f"wrote html vendor comparison to {target}" in err
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_unwritable_output_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "compare", HELIOS, "-o", str(tmp_path / "no" / "such" / "x.txt"))
    assert code == 2 and "cannot write the report" in err


def test_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compare", *ALL, "--format", "json", "--tier", "regulated-pilot",
                       *DAY)
    document = json.loads(out)
    assert code == 0 and document["kind"] == "vendor-comparison"
    assert [v["summary"]["verdict"] for v in document["vendors"]] == [
        "approvable with compensating controls", "not approvable", "not approvable",
        "not approvable",
    ]


# --- bad input: one clear line, exit 2, nothing else printed ------------------------------------------


def _bomb() -> str:
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\nvendor:\n  name: *i\n"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("vendor:\n  name: X\nidentity:\n  sso: true\n",
         ":4: field 'identity.sso': unknown field (allowed here: saml_sso, "),
        ("vendor:\n  name: X\nlogging:\n  retention_days: forever\n",
         ":4: field 'logging.retention_days': expected a whole number or unknown"),
        ("vendor:\n  name: X\n  profile_date: 2026-02-30\n",
         ":3: field 'vendor.profile_date': not a real calendar date (YYYY-MM-DD)"),
        (_bomb(), ": invalid YAML: aliases expand to more than 200,000 values"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", ": a binary file, not a YAML vendor profile"),
    ],
    ids=["unknown-field", "wrong-type", "impossible-date", "alias-bomb", "binary"],
)
def test_bad_profile_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes, expected: str
) -> None:
    path = tmp_path / "acme.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    for command in ("assess", "compare"):
        code, out, err = run(capsys, command, HELIOS, str(path))
        assert code == 2 and out == ""
        assert len(err.splitlines()) == 1 and err.startswith(f"qgov: error: {path}{expected}")


def test_fifo_missing_and_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out, err = run(capsys, "assess", str(fifo), str(tmp_path / "missing.yaml"), str(empty))
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"qgov: error: {fifo}: cannot read: not a regular file (pipe, device or socket)",
        f"qgov: error: {tmp_path / 'missing.yaml'}: cannot read: No such file or directory",
        f"qgov: error: {empty}: cannot read: not a regular file (pipe, device or socket)",
    ]


def test_usage_errors_are_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "compare", HELIOS, "--today", "2026-02-30")[0] == 2
    assert run(capsys, "compare", HELIOS, "--tier", "galactic")[0] == 2
    assert run(capsys, "compare")[0] == 2
    assert main(["vendor"]) == 2
    capsys.readouterr()


def test_no_credential_is_ever_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leaky = write(tmp_path, "leaky.yaml", full(**{
        "vendor.notes": f"api_token: {GENERIC}",
        "vendor.sources": [f"https://trust.example/?token={IONQ_KEY}"],
    }))
    typo = write(tmp_path, "typo.yaml", "vendor:\n  name: X\n"
                 f"identity:\n  mfa_enforced: {GENERIC}\n  api_key: {IONQ_KEY}\n")
    seen = ""
    for command in ("assess", "compare"):
        for output_format in ("text", "json", "html"):
            seen += "".join(run(capsys, command, str(leaky), "--format", output_format)[1:])
        seen += "".join(run(capsys, command, str(typo))[1:])
    assert "identity.mfa_enforced" in seen and "identity.api_key" in seen
    assert GENERIC not in seen and IONQ_KEY not in seen


def test_full_profile_is_approvable_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "complete.yaml", FULL)
    for tier in ("exploratory", "internal-pilot", "regulated-pilot", "production-critical"):
        assert run(capsys, "assess", str(path), "--tier", tier, *DAY)[0] == 0


def test_readme_shows_what_compare_prints(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shown = readme.split("`qgov vendor compare samples/vendors/*.yaml` printed on ", 1)[1]
    day = shown[:10]
    shown = shown.split("```text\n", 1)[1].split("```", 1)[0]
    relative = [str(Path(p).relative_to(REPO)) for p in ALL]
    code, out, _ = run(capsys, "compare", *relative, "--today", day)
    assert code == 0 and out == shown


def test_a_terminal_without_unicode_gets_ascii() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "scanner", "vendor", "compare", *ALL, *DAY],
        capture_output=True, cwd=REPO, timeout=120, check=False,
        env={**os.environ, "PYTHONIOENCODING": "ascii"},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.isascii() and b"xM none" in completed.stdout


def test_odd_file_names_are_printed_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"caf\xe9\x1b.yaml")))
    odd.write_text(Path(HELIOS).read_text(encoding="utf-8"), encoding="utf-8")
    for output_format in ("text", "json", "html"):
        code, out, _ = run(capsys, "compare", str(odd), "--format", output_format)
        assert code == 0 and "\x1b" not in out and "caf\\" in out
    broken = odd.with_name("broken\x1b.yaml")
    broken.write_text("vendor: [\n", encoding="utf-8")
    code, _, err = run(capsys, "assess", str(broken))
    assert code == 2 and "\x1b" not in err and "broken\\x1b.yaml" in err

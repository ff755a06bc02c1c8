"""No secret reaches any output: not the samples' credentials, and not credentials inside
URLs or mistyped entries that dependency manifests, CI includes and Dockerfiles quote in
their messages and evidence."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import ALL_SECRETS, GENERIC, IBM_KEY
from tests.helpers import LEAKY, write_tree

TOKEN = "ghp_" + GENERIC + "abcd"  # GitHub-token shaped, generated per run
PASSWORD = IBM_KEY[:20]


def leaky_tree(root: Path) -> Path:
    (root / ".github/actions/x").mkdir(parents=True)
    return write_tree(root, {
        "requirements.txt":
            f"-e git+https://oauth2:{TOKEN}@github.com/org/pkg.git@v1.0#egg=pkg\n"
            f"mypkg @ https://user:{PASSWORD}@files.example.com/mypkg-1.0.tar.gz\n",
        "requirements-bad.txt":
            f"other @ git+https://oauth2:{TOKEN}@github.com/org/x.git ; python_version >= 3.9\n"
            f"-r https://user:{PASSWORD}@example.com/req.txt\n",
        "requirements-typo.txt": f"bar=={TOKEN}\n",
        "pyproject.toml":
            "[project]\nname = 'x'\nversion = '1'\n"
            f"dependencies = ['pkg @ git+https://oauth2:{TOKEN}@github.com/org/pkg.git']\n",
        "environment.yml":
            f"name: x\ndependencies:\n  - {{url: 'https://user:{PASSWORD}@x.example.com', "
            f"token: {TOKEN}}}\n",
        ".gitlab-ci.yml":
            f"include:\n  - remote: 'https://deploy:{TOKEN}@gitlab.example.com/x/raw/main/ci.yml'\n",
        "Dockerfile":
            "FROM python:3.12-slim\n"
            f'RUN curl -fsSL "https://example.com/install.sh?token={TOKEN}" | bash\n'
            f"ADD https://dl.example.com/tool.tgz?sig={PASSWORD} /opt/\n"
            "USER 10001\n",
    })


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "oscal"])
def test_url_credentials_and_mistyped_entries_are_never_printed(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = leaky_tree(tmp_path / "project")
    out = tmp_path / f"report.{fmt}"
    main(["scan", str(root), "--format", fmt, "--output", str(out), "--no-engines",
          "--fail-on", "none"])
    captured = capsys.readouterr()
    text = out.read_text() + captured.out + captured.err
    assert "QG-DEP-006" in text or fmt == "junit"  # the URL findings were made
    assert TOKEN not in text
    assert PASSWORD not in text


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "oscal"])
def test_no_secret_in_any_output_format(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / f"report.{fmt}"
    code = main(["scan", str(LEAKY), "--format", fmt, "--output", str(out), "--no-engines"])
    captured = capsys.readouterr()
    assert code == 1
    text = out.read_text() + captured.out + captured.err
    leaked = [s[:6] for s in ALL_SECRETS if s in text]
    assert leaked == []
    sample_text = "".join(
        p.read_text(errors="replace") for p in LEAKY.rglob("*") if p.is_file()
    )
    # The samples' own secrets (different from the conftest ones) must not leak either.
    tokens = set(re.findall(r"[A-Za-z0-9_+/-]{40,}", sample_text))
    assert tokens, "samples should contain long tokens"
    assert [t[:6] for t in tokens if t in text] == []

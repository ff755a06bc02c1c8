"""Credentials inside URLs and mistyped entries never reach any output: dependency manifests,
CI includes and Dockerfiles quote URLs and entries in their messages and evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.cli import main
from tests.conftest import GENERIC, IBM_KEY

TOKEN = "ghp_" + GENERIC + "abcd"  # GitHub-token shaped, generated per run
PASSWORD = IBM_KEY[:20]


def leaky_tree(root: Path) -> Path:
    (root / ".github/actions/x").mkdir(parents=True)
    (root / "requirements.txt").write_text(
        f"-e git+https://oauth2:{TOKEN}@github.com/org/pkg.git@v1.0#egg=pkg\n"
        f"mypkg @ https://user:{PASSWORD}@files.example.com/mypkg-1.0.tar.gz\n"
    )
    (root / "requirements-bad.txt").write_text(
        f"other @ git+https://oauth2:{TOKEN}@github.com/org/x.git ; python_version >= 3.9\n"
        f"-r https://user:{PASSWORD}@example.com/req.txt\n"
    )
    (root / "requirements-typo.txt").write_text(f"bar=={TOKEN}\n")
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'x'\nversion = '1'\n"
        f"dependencies = ['pkg @ git+https://oauth2:{TOKEN}@github.com/org/pkg.git']\n"
    )
    (root / "environment.yml").write_text(
        f"name: x\ndependencies:\n  - {{url: 'https://user:{PASSWORD}@x.example.com', "
        f"token: {TOKEN}}}\n"
    )
    (root / ".gitlab-ci.yml").write_text(
        f"include:\n  - remote: 'https://deploy:{TOKEN}@gitlab.example.com/x/raw/main/ci.yml'\n"
    )
    (root / "Dockerfile").write_text(
        "FROM python:3.12-slim\n"
        f'RUN curl -fsSL "https://example.com/install.sh?token={TOKEN}" | bash\n'
        f"ADD https://dl.example.com/tool.tgz?sig={PASSWORD} /opt/\n"
        "USER 10001\n"
    )
    return root


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit"])
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

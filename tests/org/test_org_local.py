"""`qgov org scan` on the default local Dask cluster: results, failures, resume, the pack."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import AWS_SECRET
from tests.helpers import REPO
from tests.org.conftest import env, free_port, make_repo, push_change, qgov

TOKEN = "ghp_" + "Zq7" * 12  # a made-up token that must never be written anywhere


@pytest.fixture
def hanging_server() -> Iterator[int]:
    """A git:// server that accepts connections and never answers: a clone that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.5)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_scans_every_repository_records_failures_resumes_and_feeds_the_pack(
    tmp_path: Path, hanging_server: int
) -> None:
    base = tmp_path / "git"
    for name in ("api", "web"):
        make_repo(base, name)
    make_repo(tmp_path / "team", "keys", leaky=True)
    sources = tmp_path / "sources.txt"
    sources.write_text(textwrap.dedent(f"""\
        # the organisation's repositories
        file://{base}/api.git
        {base}/web.git
        team/keys.git   # a path relative to this file
        https://ci-bot:{TOKEN}@127.0.0.1:{free_port()}/org/private.git
        git://127.0.0.1:{hanging_server}/org/stuck.git
        git/does-not-exist
        ext::sh -c touch${{IFS}}pwned
        """), encoding="utf-8")

    first = qgov("org", "scan", "sources.txt", "--out", "out", "--workers", "2",
                 "--no-engines", "--no-cache", "--timeout", "8", cwd=tmp_path)

    assert first.returncode == 1, first.stderr  # some failed
    assert "Traceback" not in first.stderr
    summary = json.loads((tmp_path / "out" / "org-scan.json").read_text())
    by_name = {r["name"]: r for r in summary["results"]}
    assert summary["counts"] == {"scanned": 3, "unchanged": 0, "failed": 4, "remaining": 0}
    for name in ("git_api", "git_web", "team_keys"):
        assert by_name[name]["status"] == "scanned", by_name[name]
        assert (tmp_path / "out" / f"{name}.json").is_file()
    assert "time budget" in by_name["org_stuck"]["reason"]
    assert by_name["org_private"]["reason"].startswith("git clone failed")
    assert by_name["org_private"]["source"].startswith("https://127.0.0.1:")
    assert "no such repository" in by_name["line-7"]["reason"]
    assert "not allowed" in by_name["line-8"]["reason"]
    assert not (tmp_path / "pwned").exists()
    assert "[3 done, 4 failed, 0 remaining]" in first.stderr
    leaky = json.loads((tmp_path / "out" / "team_keys.json").read_text())
    assert any(f["rule_id"].startswith("QG-SEC") for f in leaky["findings"])
    assert leaky["scan"]["config_digest"]

    # The token and the leaked secret appear nowhere: results, summary, clones' names, stderr.
    assert TOKEN not in first.stderr and "ci-bot" not in first.stderr
    for path in (tmp_path / "out").rglob("*"):
        if path.is_file() and ".clones" not in path.parts:
            text = path.read_text(errors="replace")
            assert TOKEN not in text and "ci-bot" not in text, path
            assert AWS_SECRET not in text, path

    # Re-run after one repository moved on: only that one is scanned again.
    api_before = (tmp_path / "out" / "git_api.json").read_bytes()
    new_head = push_change(base, "web")
    second = qgov("org", "scan", "sources.txt", "--out", "out", "--workers", "2",
                  "--no-engines", "--no-cache", "--timeout", "8", cwd=tmp_path)
    by_name = {r["name"]: r for r in
               json.loads((tmp_path / "out" / "org-scan.json").read_text())["results"]}
    assert by_name["git_api"]["status"] == "unchanged"
    assert by_name["team_keys"]["status"] == "unchanged"
    assert by_name["git_web"]["status"] == "scanned"
    assert by_name["git_web"]["commit"] == new_head
    web = json.loads((tmp_path / "out" / "git_web.json").read_text())
    assert web["scan"]["targets"][0]["git"]["commit"] == new_head
    assert (tmp_path / "out" / "git_api.json").read_bytes() == api_before
    assert "git_api unchanged, skipped" in second.stderr

    # The results roll up into the organisation's pack.
    results = sorted(str(p) for p in (tmp_path / "out").glob("*.json")
                     if p.name != "org-scan.json")
    pack = qgov("report", *results, "--out", "org-pack", cwd=tmp_path)
    assert pack.returncode == 0, pack.stderr
    findings = json.loads((tmp_path / "org-pack" / "findings.json").read_text())
    assert "team_keys" in json.dumps(findings)


def test_an_unreachable_scheduler_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "sources.txt").write_text(f"{make_repo(tmp_path / 'git', 'api')}\n")
    started = time.monotonic()
    done = qgov("org", "scan", "sources.txt", "--out", "out",
                "--scheduler", f"tcp://127.0.0.1:{free_port()}", cwd=tmp_path, timeout=120)
    assert done.returncode == 2
    assert time.monotonic() - started < 60
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("qgov: error")]
    assert len(lines) == 1 and "cannot reach the Dask scheduler" in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def test_unreadable_sources_is_a_usage_error(tmp_path: Path) -> None:
    done = qgov("org", "scan", "missing.txt", "--out", "out", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("qgov: error: ") and "missing.txt" in done.stderr


_IMPORTS = textwrap.dedent("""
    import sys
    from scanner.cli import main
    code = main(sys.argv[1:])
    print("dask loaded:", any(m.split(".")[0] in ("dask", "distributed") for m in sys.modules),
          file=sys.stderr)
    sys.exit(code)
""")


def test_qgov_scan_does_not_import_dask(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("x = 1\n")
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS, "scan", str(tmp_path), "--no-engines", "-q",
         "--no-cache"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env(),
    )
    assert done.returncode == 0, done.stderr
    assert "dask loaded: False" in done.stderr
    assert str(REPO)  # the scanner under test, not an installed copy

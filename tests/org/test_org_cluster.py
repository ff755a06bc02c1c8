"""`qgov org scan --scheduler` on a real Dask cluster: a `dask scheduler` and two `dask worker`
processes on 127.0.0.1, standing in for machines; one is killed in the middle of a task."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner.org.task import TEST_HOLD_ENV
from tests.org.conftest import VENV_BIN, env, free_port, make_repo

DASK = VENV_BIN / "dask"


def _start(argv: list[str], log: Path, **extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            env=env(**extra), start_new_session=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    if not DASK.exists():
        pytest.fail("the dask command is missing: install qgov[dev]")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    hold = tmp_path / "hold"
    hold.mkdir()
    processes = [_start([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                         "--dashboard-address", ":0", "--no-show"], tmp_path / "scheduler.log")]
    try:
        processes.extend(_start(
            [str(DASK), "worker", address, "--nworkers", "1", "--nthreads", "1",
             "--host", "127.0.0.1", "--dashboard-address", ":0", "--no-dashboard"],
            tmp_path / f"worker{index}.log",
            DASK_DISTRIBUTED__WORKER__DAEMON="False", **{TEST_HOLD_ENV: str(hold)},
        ) for index in range(2))
        yield address, hold
    finally:
        for process in reversed(processes):
            _stop(process)


def test_a_worker_killed_mid_task_loses_nothing(
    tmp_path: Path, cluster: tuple[str, Path]
) -> None:
    address, hold = cluster
    names = ["api", "web", "etl", "ops"]
    sources = tmp_path / "sources.txt"
    sources.write_text("".join(f"file://{make_repo(tmp_path / 'git', n)}\n" for n in names))
    (hold / "git_etl.hold").touch()  # the first attempt at git_etl waits, to be killed
    scan = subprocess.Popen(
        [sys.executable, "-m", "scanner", "org", "scan", str(sources), "--out", "out",
         "--scheduler", address, "--no-engines", "--no-cache", "--timeout", "120"],
        cwd=tmp_path, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        mark = hold / "git_etl.pid"
        deadline = time.monotonic() + 120
        while not mark.exists() and scan.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert mark.exists(), "the held task never started"
        time.sleep(0.3)
        os.kill(int(mark.read_text()), signal.SIGKILL)  # the worker process running it
        _out, err = scan.communicate(timeout=240)
    finally:
        if scan.poll() is None:
            scan.kill()
    assert scan.returncode == 0, err
    summary = json.loads((tmp_path / "out" / "org-scan.json").read_text())
    assert summary["scheduler"] == "remote"
    assert {r["name"]: r["status"] for r in summary["results"]} == {
        f"git_{n}": "scanned" for n in names}
    for name in names:
        document = json.loads((tmp_path / "out" / f"git_{name}.json").read_text())
        assert document["scan"]["targets"][0]["git"]["commit"]
    assert "[4 done, 0 failed, 0 remaining]" in err

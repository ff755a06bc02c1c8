"""Benchmark: `qgov org scan` throughput, in repositories per minute, for 1 and 2 workers.

Generates N small repositories (bare, one commit each: a few Python files, a notebook-free
project, one with a leaked-looking key every tenth), then for each worker count runs a cold
`qgov org scan` (fresh output and clone folders, result cache off, engines off: this
measures the Dask fan-out, the clones and qgov's own detectors, not bandit and semgrep)
through the CLI on a local Dask cluster, and a second, resumed run (nothing changed: every
repository fetched and skipped). The load average before each run is recorded, since the
machine may be shared.

    python bench/org_bench.py [--repos 200] [--workers 1 2] [--keep DIR]

Prints a Markdown table to paste under "Organisation scans" in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GIT_ENV = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.org"}


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True,
                   capture_output=True)


def make_repos(base: Path, count: int) -> Path:
    lines = []
    for index in range(count):
        work = base / "work" / f"svc{index:03d}"
        (work / "src").mkdir(parents=True)
        for part in range(5):
            (work / "src" / f"mod{part}.py").write_text(
                "import os\n\n\ndef handler(event):\n"
                f"    return os.environ.get('REGION', 'eu-{part}')\n", encoding="utf-8")
        if index % 10 == 0:
            (work / "settings.py").write_text('TOKEN = "qiskit_' + "a1b2c3d4" * 6 + '"\n')
        _git(work, "init", "-q", "-b", "main")
        _git(work, "add", "-A")
        _git(work, "commit", "-q", "-m", "init")
        _git(base, "clone", "-q", "--bare", str(work), str(base / f"svc{index:03d}.git"))
        lines.append(f"file://{base}/svc{index:03d}.git\n")
    sources = base / "sources.txt"
    sources.write_text("".join(lines), encoding="utf-8")
    return sources


def run(sources: Path, out: Path, workers: int) -> tuple[float, int, str]:
    load = "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "scanner", "org", "scan", str(sources), "--out", str(out),
         "--workers", str(workers), "--no-engines", "--no-cache"],
        env={**os.environ, **GIT_ENV, "PYTHONPATH": str(REPO)}, capture_output=True,
        text=True, check=False,
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"org scan failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, done.stderr.count("\n"), load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repos", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--keep", type=Path, help="keep the generated repositories here")
    args = parser.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="qgov-org-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    sources = make_repos(base, args.repos)
    print(f"{args.repos} repositories, {os.cpu_count()} CPUs\n")
    print("| workers | run | wall time | repositories/min | load average before (1, 5, 15 min) |")
    print("|---|---|---|---|---|")
    for workers in args.workers:
        out = base / f"out-{workers}"
        shutil.rmtree(out, ignore_errors=True)
        for label in ("cold", "resumed (unchanged)"):
            seconds, _lines, load = run(sources, out, workers)
            rate = args.repos / seconds * 60
            print(f"| {workers} | {label} | {seconds:.1f} s | {rate:.0f} | {load} |", flush=True)
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Benchmark: a cold full qgov scan against `detect-secrets scan`, with the process tree's peak.

On the bench notebook corpus (bench/corpus/notebooks, built as bench/run_bench.py builds
it) or another corpus of run_bench.py, each round runs, in fresh processes and one after the
other:

- `qgov scan CORPUS --no-cache --format json` with every engine on (bandit, semgrep, the
  vulnerability check), `--jobs N` if given;
- `detect-secrets scan --all-files` in the corpus folder (its default reads only the files git
  tracks, and the corpus is git-ignored).

Wall times are the processes' own, start-up included. While qgov runs, its process tree (the
CLI, its detection workers, semgrep and the processes semgrep starts) is sampled every 20 ms
with psutil: the peak of the tree's summed RSS (which counts pages the forked workers share
with their parent once per process, so it overstates), the peak of the summed PSS (shared
pages divided among the processes sharing them: the memory the tree really holds), and the
peak of semgrep's own processes. The load average is read before each round: the machine is
shared, and times move with it.

`--ref COMMIT` also runs the qgov of that commit (exported with `git archive` to a temporary
folder and run from there with the same interpreter), in the same rounds, for a before/after
under the same load. Rows go to the "Engines side by side" table of bench/RESULTS.md.

    python bench/detect_secrets_bench.py [--corpus notebooks|large|leaky] [--rounds 3]
                                         [--jobs N] [--ref COMMIT] [--no-record]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))

from run_bench import CORPUS, build_large, build_notebooks  # noqa: E402

SECTION = "## Engines side by side: cold scan against detect-secrets"


@dataclass
class Run:
    seconds: float
    rss_peak_mb: float = 0.0
    pss_peak_mb: float = 0.0
    semgrep_peak_mb: float = 0.0
    findings: int | None = None


def _sample(root: psutil.Process, peaks: dict[str, float], stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        rss = pss = semgrep = 0
        for process in tree:
            try:
                info = process.memory_full_info()
                name = " ".join(process.cmdline()[:2])
            except psutil.Error:
                continue  # ended between listing and reading
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
            if "semgrep" in name:
                semgrep += getattr(info, "pss", info.rss)
        peaks["rss"] = max(peaks["rss"], rss)
        peaks["pss"] = max(peaks["pss"], pss)
        peaks["semgrep"] = max(peaks["semgrep"], semgrep)
        stop.wait(0.02)


def run_qgov(corpus: Path, code: Path, jobs: int | None) -> Run:
    command = [sys.executable, "-m", "scanner", "scan", str(corpus), "--no-cache",
               "--format", "json", "--fail-on", "none"]
    if jobs:
        command += ["--jobs", str(jobs)]
    env = dict(os.environ, PYTHONPATH=str(code))
    peaks = {"rss": 0.0, "pss": 0.0, "semgrep": 0.0}
    stop = threading.Event()
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        # Run from the code's own folder: `python -m` puts the working folder first on
        # sys.path, ahead of PYTHONPATH.
        process = psutil.Popen(command, stdout=out, stderr=subprocess.PIPE, env=env, cwd=code)
        sampler = threading.Thread(target=_sample, args=(process, peaks, stop))
        sampler.start()
        _out, err = process.communicate()
        seconds = time.perf_counter() - started
        stop.set()
        sampler.join()
        out.seek(0)
        raw = out.read()
    if process.returncode not in (0, 1):
        raise SystemExit(f"qgov failed ({process.returncode}): {err.decode()[-1500:]}")
    findings = json.loads(raw)["summary"]["findings"]
    mb = 1024 * 1024
    return Run(round(seconds, 2), round(peaks["rss"] / mb, 1), round(peaks["pss"] / mb, 1),
               round(peaks["semgrep"] / mb, 1), findings)


def run_detect_secrets(corpus: Path) -> Run:
    executable = Path(sys.executable).parent / "detect-secrets"
    started = time.perf_counter()
    completed = subprocess.run([str(executable), "scan", "--all-files", "."], cwd=corpus,
                               capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"detect-secrets failed: {completed.stderr.decode()[-1500:]}")
    results = json.loads(completed.stdout)["results"]
    return Run(round(seconds, 2), findings=sum(len(found) for found in results.values()))


def export(commit: str, folder: Path) -> Path:
    archive = subprocess.run(["git", "archive", commit], cwd=REPO, capture_output=True,
                             check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", choices=["notebooks", "large", "leaky"], default="notebooks")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--ref", help="also run qgov at this commit (before/after)")
    parser.add_argument("--no-record", action="store_true", help="print, do not append")
    args = parser.parse_args()
    if args.corpus == "leaky":
        corpus = REPO / "samples" / "leaky-quantum-project"
    else:
        corpus = CORPUS / args.corpus
        if not corpus.exists():
            {"notebooks": build_notebooks, "large": build_large}[args.corpus](corpus)
    label = f"{args.corpus}{f', --jobs {args.jobs}' if args.jobs else ''}"
    with tempfile.TemporaryDirectory(prefix="qgov-ref-") as scratch:
        here = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO,
                              capture_output=True, text=True, check=False).stdout.strip()
        versions = {f"this tree ({here or 'not a git checkout'})": REPO}
        if args.ref:
            versions[f"at {args.ref}"] = export(args.ref, Path(scratch))
        runs: dict[str, list[Run]] = {name: [] for name in [*versions, "detect-secrets"]}
        loads = []
        for _round in range(args.rounds):
            loads.append(os.getloadavg()[0])
            for name, code in versions.items():
                runs[name].append(run_qgov(corpus, code, args.jobs))
                print(name, runs[name][-1], flush=True)
            runs["detect-secrets"].append(run_detect_secrets(corpus))
            print("detect-secrets", runs["detect-secrets"][-1], flush=True)
        shutil.rmtree(scratch, ignore_errors=True)
    secrets = statistics.median(r.seconds for r in runs["detect-secrets"])
    rows = []
    for name in versions:
        qgov = runs[name]
        median = statistics.median(r.seconds for r in qgov)
        rows.append(
            f"| {time.strftime('%Y-%m-%d')} | {label} | qgov {name} | "
            f"{median:.2f} s ({', '.join(f'{r.seconds:.2f}' for r in qgov)}) | "
            f"{secrets:.2f} s | **{median / secrets:.3f}x** | "
            f"{max(r.pss_peak_mb for r in qgov)} MB | {max(r.rss_peak_mb for r in qgov)} MB | "
            f"{max(r.semgrep_peak_mb for r in qgov)} MB | {qgov[0].findings} / "
            f"{runs['detect-secrets'][0].findings} | "
            f"{', '.join(f'{load:.1f}' for load in loads)} |"
        )
    print(*rows, sep="\n")
    if not args.no_record:
        _append(rows)
    return 0


def _append(rows: list[str]) -> None:
    results = BENCH / "RESULTS.md"
    text = results.read_text(encoding="utf-8")
    if SECTION not in text:
        text = text.rstrip("\n") + (
            f"\n\n{SECTION}\n\n`python bench/detect_secrets_bench.py` (see its docstring). "
            "Times are medians of the rounds (each round's in brackets); peaks are the "
            "largest of the rounds.\n\n"
            "| date | corpus | run | qgov cold scan | detect-secrets | ratio | tree peak "
            "(PSS) | tree peak (summed RSS) | semgrep peak | findings: qgov / "
            "detect-secrets | load avg per round |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|\n"
        )
    lines = text.splitlines()
    start = lines.index(SECTION)
    rows_end = start
    for index in range(start, len(lines)):
        if lines[index].startswith("|"):
            rows_end = index
    lines[rows_end + 1 : rows_end + 1] = rows
    results.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())

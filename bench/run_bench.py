"""Benchmark: build corpora, run cold scans, record time, per-stage time and peak memory.

Corpora (generated under bench/corpus/, git-ignored):
- notebooks: ~100 notebooks, ~25 MB, mostly embedded PNG plots and long outputs, the shape of
  a real research folder (the case where entropy scanners drown in base64).
- large: ~10k files: copies of samples/ plus generated Python, Terraform, CloudFormation,
  Kubernetes, Dockerfile, workflow and notebook files.
- hostile: every case of tests/hostile/generator.py that is a tree to scan (100k-character
  lines, alias bombs, broken notebooks, FIFOs …), as one tree; the row records the longest
  time one file took (the per-file budget's reason to exist).

- leaky: samples/leaky-quantum-project as it is (nothing is generated).

Each scan runs in a fresh subprocess (`qgov scan --format json --show-timings`) so the time
includes start-up and catalog loading, and peak RSS is the child's own. Scans run with
`--no-cache` (a cold scan must not read what an earlier run kept), except with `--cache`:
then each corpus is scanned twice against a new, empty cache folder, cold then warm, and
both rows are recorded with the warm scan's share of the cold one (scan time as the report
gives it, and the process's wall time). Results are appended to bench/RESULTS.md.

    python bench/run_bench.py [--corpus notebooks|large|hostile|leaky|all] [--no-engines]
                              [--cache]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
CORPUS = BENCH / "corpus"


def _png(rng: random.Random, size: int) -> str:
    # Random bytes behind a PNG header: as incompressible (and as entropy-rich) as a real plot.
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + rng.randbytes(size)).decode()


def _notebook(rng: random.Random, index: int) -> str:
    cells = [new_markdown_cell(f"# Experiment {index}: VQE sweep\nNotes on ansatz depth.")]
    for step in range(12):
        outputs = [
            new_output("stream", name="stdout",
                       text="".join(f"iter {i:04d} energy={rng.uniform(-2, 0):.8f}\n"
                                    for i in range(40))),
        ]
        if step % 2 == 0:
            outputs.append(new_output("display_data", data={
                "image/png": _png(rng, 28_000), "text/plain": "<Figure size 640x480 with 1 Axes>"}))
        cells.append(new_code_cell(
            "from qiskit import QuantumCircuit\n"
            f"qc = QuantumCircuit({2 + step % 5})\nqc.h(0)\nresult = run(qc, shots=4000)\n",
            outputs=outputs,
        ))
    return nbformat.writes(new_notebook(cells=cells))


def build_notebooks(target: Path, count: int = 100) -> None:
    rng = random.Random(42)
    target.mkdir(parents=True, exist_ok=True)
    for index in range(count):
        (target / f"experiment_{index:03d}.ipynb").write_text(_notebook(rng, index))


_TF = """resource "aws_s3_bucket" "results_{i}" {{
  bucket = "amazon-braket-results-{i}"
}}

resource "aws_security_group" "sg_{i}" {{
  ingress {{
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}
"""

_K8S = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker-{i}
spec:
  template:
    spec:
      containers:
        - name: worker
          image: qgov/worker:latest
          securityContext:
            privileged: true
"""

_WORKFLOW = """name: ci-{i}
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pip install qiskit
"""

_DOCKERFILE = """FROM python:3.12-slim
ARG QISKIT_VERSION=2.1.0
RUN pip install --no-cache-dir qiskit==${{QISKIT_VERSION}} qiskit-aer
COPY src/ /app/src/
USER 10001
CMD ["python", "-m", "app.worker_{i}"]
"""

_CFN = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Results{i}:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "amazon-braket-results-{i}-${{AWS::AccountId}}"
      VersioningConfiguration:
        Status: Enabled
  JobRole{i}:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {{Service: braket.amazonaws.com}}
            Action: sts:AssumeRole
      Policies:
        - PolicyName: braket
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: "braket:*"
                Resource: "*"
"""

_PY = '''"""Module {i}."""
import logging

log = logging.getLogger(__name__)


def run_{i}(circuit, shots: int = 1000):
    log.info("running %d shots", shots)
    return {{"00": shots // 2, "11": shots - shots // 2}}
'''


def build_large(target: Path, files: int = 10_000) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for copy in range(20):
        shutil.copytree(REPO / "samples", target / f"samples_{copy:02d}", dirs_exist_ok=True)
    existing = sum(1 for p in target.rglob("*") if p.is_file())
    # Mostly code, as in real repositories, with IaC, manifests and workflows mixed in.
    kinds = ["py", "tf", "k8s", "wf", "py", "py", "docker", "cfn", "py"]
    i = 0
    while existing + i < files:
        kind = kinds[i % len(kinds)]
        folder = target / f"mod_{i // 200:03d}"
        if kind == "py":
            path, text = folder / f"m_{i}.py", _PY.format(i=i)
        elif kind == "tf":
            path, text = folder / "infra" / f"main_{i}.tf", _TF.format(i=i)
        elif kind == "k8s":
            path, text = folder / "k8s" / f"deploy_{i}.yaml", _K8S.format(i=i)
        elif kind == "docker":
            path, text = folder / f"svc_{i}" / "Dockerfile", _DOCKERFILE.format(i=i)
        elif kind == "cfn":
            path, text = folder / "cfn" / f"stack_{i}.yaml", _CFN.format(i=i)
        else:
            path, text = folder / ".github" / "workflows" / f"ci_{i}.yml", _WORKFLOW.format(i=i)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        i += 1
    # A few notebooks with real-shaped outputs among the code.
    build_notebooks(target / "notebooks", count=20)


def build_hostile(target: Path) -> None:
    sys.path.insert(0, str(REPO))
    from tests.hostile.generator import CASES, build

    target.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        if not case.config_error:
            build(case, target)


def corpus_size(path: Path) -> tuple[int, int]:
    files = [p for p in path.rglob("*") if p.is_file() and not p.is_symlink()]
    return len(files), sum(p.stat().st_size for p in files)


def run_scan(path: Path, no_engines: bool, cache_dir: Path | None = None) -> dict[str, object]:
    qgov = Path(sys.executable).parent / "qgov"
    command = [str(qgov), "scan", str(path), "--format", "json", "--fail-on", "none",
               "--show-timings"]
    if no_engines:
        command.append("--no-engines")
    command += ["--cache-dir", str(cache_dir)] if cache_dir else ["--no-cache"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode not in (0, 1):
        raise SystemExit(f"scan failed ({proc.returncode}): {proc.stderr[-2000:]}")
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        detail = proc.stderr[-2000:]
        raise SystemExit(f"scan printed no JSON ({proc.returncode}): {detail}") from None
    timings = {}
    for line in proc.stderr.splitlines():
        if line.strip().startswith("slowest file:"):
            *_label, name, seconds = line.split()
            timings[f"slowest file ({name})"] = float(seconds.rstrip("s"))
            continue
        parts = line.split()
        if len(parts) == 2 and parts[1].endswith("s"):
            try:
                timings[parts[0]] = float(parts[1][:-1])
            except ValueError:
                pass
    return {
        "seconds": round(elapsed, 2),
        "scan_seconds": doc["summary"]["duration_seconds"],
        # ru_maxrss is the largest single child so far; with fresh runs per corpus it is ours
        "peak_rss_mb": round(max(peak_kb, before) / 1024, 1),
        "findings": doc["summary"]["findings"],
        "scan_errors": doc["summary"]["scan_errors"],
        "files_scanned": doc["summary"]["files_scanned"],
        "timings": timings,
    }


def record(
    name: str, path: Path, result: dict[str, object], no_engines: bool, note: str = ""
) -> str:
    files, size = corpus_size(path)
    timings = result["timings"]
    assert isinstance(timings, dict)
    stages = ", ".join(f"{k} {v:.2f}s" for k, v in sorted(timings.items(), key=lambda kv: -kv[1]))
    return (
        f"| {time.strftime('%Y-%m-%d')} | {name}{' (no engines)' if no_engines else ''}{note} | "
        f"{files:,} files, {size / 1e6:.1f} MB | {result['seconds']} s | "
        f"{result['peak_rss_mb']} MB | {result['findings']} / {result['scan_errors']} | {stages} |"
    )


def _share(warm: dict[str, object], cold: dict[str, object], key: str) -> str:
    part, whole = warm[key], cold[key]
    assert isinstance(part, (int, float)) and isinstance(whole, (int, float))
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--corpus", choices=["notebooks", "large", "hostile", "leaky", "all"], default="all"
    )
    parser.add_argument("--no-engines", action="store_true")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--cache", action="store_true", help="cold, then warm result cache")
    args = parser.parse_args()
    names = ["notebooks", "large", "hostile"] if args.corpus == "all" else [args.corpus]
    builders = {"notebooks": build_notebooks, "large": build_large, "hostile": build_hostile}
    rows = []
    for name in names:
        target = REPO / "samples" / "leaky-quantum-project" if name == "leaky" else CORPUS / name
        if name != "leaky":
            if args.rebuild and target.exists():
                shutil.rmtree(target)
            if not target.exists():
                builders[name](target)
        if not args.cache:
            rows.append(record(name, target, run_scan(target, args.no_engines), args.no_engines))
            print(rows[-1])
            continue
        with tempfile.TemporaryDirectory(prefix="qgov-bench-cache-") as cache_dir:
            cold = run_scan(target, args.no_engines, Path(cache_dir))
            warm = run_scan(target, args.no_engines, Path(cache_dir))
        share = (f": scan {warm['scan_seconds']} s = {_share(warm, cold, 'scan_seconds')} of "
                 f"the cold {cold['scan_seconds']} s; wall {_share(warm, cold, 'seconds')}")
        rows.append(record(name, target, cold, args.no_engines, " (cold cache)"))
        rows.append(record(name, target, warm, args.no_engines, f" (warm cache{share})"))
        print(*rows[-2:], sep="\n")
    results = BENCH / "RESULTS.md"
    if not results.exists():
        results.write_text(
            "# Benchmark results\n\nRecorded by `python bench/run_bench.py` on "
            f"{platform.machine()} ({os.cpu_count()} cores). Cold scan = fresh process.\n\n"
            "| date | corpus | size | wall time | peak RSS | findings / scan errors | "
            "stage times |\n|---|---|---|---|---|---|---|\n"
        )
    # New rows go at the end of the table, above any notes written under it.
    lines = results.read_text().splitlines()
    last_row = max((i for i, line in enumerate(lines) if line.startswith("| ")), default=len(lines))
    lines[last_row + 1 : last_row + 1] = rows
    results.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

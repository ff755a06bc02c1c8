"""Benchmark: the OSCAL assessment-results report. What importing compliance-trestle costs
(a fresh interpreter, so nothing is cached), and rendering 1,000 and 10,000 findings spread
over the catalog's rules: time, output size and peak memory, each in its own subprocess.

    python bench/oscal_bench.py [--findings 1000 10000]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_IMPORT = """
import time
started = time.perf_counter()
import trestle.oscal.assessment_results
print(time.perf_counter() - started)
"""

_RENDER = """
import json, resource, sys, time
from scanner.catalog import load_catalog
from scanner.model import CheckRun, Coverage, Finding, ScanResult, Severity, Tier
from scanner.reports.oscal import render_oscal
from scanner.reports.report import ScanReport

count = int(sys.argv[1])
catalog = load_catalog()
rules = sorted(catalog.rules.values(), key=lambda r: r.id)
findings = tuple(
    Finding(rule_id=rule.id, message=f"{rule.title} in module {i}", path=f"src/pkg{i % 97}/m{i}.py",
            line=i % 400 + 1, severity=list(Severity)[i % 5], content_hash=f"{i:016x}",
            title=rule.title, control_ids=rule.controls, evidence="AKIA\u2026[20 chars]")
    for i, rule in ((i, rules[i % len(rules)]) for i in range(count))
)
checks = (CheckRun(name="all", kind="detector", rules=tuple(catalog.rules), files=count),)
result = ScanResult(roots=("bench",), findings=findings, files_scanned=count,
                    coverage=Coverage(tier=Tier.PRODUCTION_CRITICAL, checks=checks))
report = ScanReport(result=result, catalog=catalog, fail_on=Severity.HIGH)
report.compliance  # status is the scan's work, not the report's
import trestle.oscal.assessment_results  # measured on its own
started = time.perf_counter()
text = render_oscal(report)
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "mb": len(text.encode()) / 1e6, "peak_rss_mb": peak}))
"""


def _run(code: str, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True,
        cwd=REPO, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    ).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    imports = sorted(float(_run(_IMPORT)) for _ in range(5))
    print(f"{platform.python_version()}, {platform.machine()}")
    print(f"import trestle.oscal.assessment_results: median {imports[2]:.2f} s, "
          f"min {imports[0]:.2f} s (5 fresh interpreters)")
    print("| findings | render | output | peak RSS (process) |")
    print("|---:|---:|---:|---:|")
    for count in args.findings:
        row = json.loads(_run(_RENDER, str(count)))
        print(f"| {count:,} | {row['seconds']:.2f} s | {row['mb']:.1f} MB | "
              f"{row['peak_rss_mb']:.0f} MB |")


if __name__ == "__main__":
    main()

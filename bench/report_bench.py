"""Benchmark: render the audit pack's report.html and report.pdf for many findings.

For each size, a fresh subprocess builds the samples' pack (``scanner.pack.example``: a real
scan of samples/, engines off), adds N synthetic findings to it, renders report.html and
then report.pdf with WeasyPrint, and reports the time of each step and its own peak RSS. The
report caps the findings it lists (``scanner.pack.caps``), so render time should stay flat
as N grows; this measures that it does.

    python bench/report_bench.py [--findings 1000 10000] [--keep DIR] [--no-record]

Rows are added to the "Report render" section of bench/RESULTS.md (created when missing).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SECTION = "## Report render: report.html and report.pdf"


def child(findings: int, keep: Path | None) -> None:
    """Runs in the subprocess: build, render, print one JSON line of measurements."""
    from scanner.pack.example import sample_pack_data, synthetic_pack_data
    from scanner.pack.html import render_report_html
    from scanner.pack.pdf import render_pdf

    started = time.perf_counter()
    data = synthetic_pack_data(findings, base=sample_pack_data())
    built = time.perf_counter()
    rss_before_render = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    html = render_report_html(data)
    rendered_html = time.perf_counter()
    pdf = render_pdf(html, data)
    rendered_pdf = time.perf_counter()
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        (keep / f"report-{findings}.html").write_text(html, encoding="utf-8")
        (keep / f"report-{findings}.pdf").write_bytes(pdf)
    print(json.dumps({
        "findings": data.findings_total(),
        "build_s": round(built - started, 2),
        "html_s": round(rendered_html - built, 2),
        "pdf_s": round(rendered_pdf - rendered_html, 2),
        "html_bytes": len(html.encode("utf-8")),
        "pdf_bytes": len(pdf),
        "rss_before_render_mb": round(rss_before_render / 1024, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }))


def pages_of(pdf: Path) -> int | None:
    """The page count pdfinfo reads (poppler-utils), when it is installed."""
    try:
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in info.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    return None


def measure(findings: int, keep: Path) -> dict[str, float | int | None]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(findings),
         "--keep", str(keep)],
        capture_output=True, text=True, check=False, env=env, cwd=REPO,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"render of {findings} findings failed: {proc.stderr[-2000:]}")
    result: dict[str, float | int | None] = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = round(wall, 2)
    result["pages"] = pages_of(keep / f"report-{findings}.pdf")
    return result


def _mb(size: float | int | None) -> str:
    return f"{(size or 0) / 1e6:.2f} MB"


def row(result: dict[str, float | int | None], load: float) -> str:
    return (
        f"| {time.strftime('%Y-%m-%d')} | {result['findings']:,} | {result['wall_s']} s | "
        f"{result['build_s']} s | {result['html_s']} s | {result['pdf_s']} s | "
        f"{result['peak_rss_mb']} MB ({result['rss_before_render_mb']} MB before rendering) | "
        f"{_mb(result['html_bytes'])} / {_mb(result['pdf_bytes'])} | {result['pages']} | "
        f"{load:.1f} |"
    )


def record(rows: list[str]) -> None:
    results = BENCH / "RESULTS.md"
    text = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
    lines = text.splitlines()
    if SECTION not in lines:
        lines += [
            "", SECTION, "",
            "`python bench/report_bench.py` renders the samples' pack with N synthetic "
            f"findings added, each size in a fresh process ({platform.machine()}, "
            f"{os.cpu_count()} cores). Wall time includes start-up and the real scan of "
            "samples/ (build); peak RSS is the child process's own.",
            "",
            "| date | active findings | wall time | build pack | report.html | report.pdf | "
            "peak RSS | HTML / PDF size | PDF pages | load avg |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
    start = lines.index(SECTION)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
               len(lines))
    last = max((i for i in range(start, end) if lines[i].startswith("|")), default=end - 1)
    lines[last + 1:last + 1] = rows
    results.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--findings", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--keep", type=Path, default=BENCH / "corpus" / "report",
                        help="where the rendered files are written (default: bench/corpus/report)")
    parser.add_argument("--no-record", action="store_true", help="print, do not add to RESULTS.md")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.keep)
        return 0
    rows = []
    for findings in args.findings:
        load = os.getloadavg()[0]
        result = measure(findings, args.keep)
        rows.append(row(result, load))
        print(rows[-1], flush=True)
    if not args.no_record:
        record(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())

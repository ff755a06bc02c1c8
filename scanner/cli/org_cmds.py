"""`qgov org scan SOURCES --out DIR`: every repository of an organisation, one Dask task each.

Exit codes: 0 every repository was scanned (or unchanged since its last result); 1 some
failed (each with its reason in DIR/org-scan.json; the others' results are written);
2 the run could not start (unreadable SOURCES, unreachable scheduler, usage error).
Findings do not change the exit code: the results and `qgov report DIR/*.json` say that.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from scanner.cli.exits import EXIT_ERROR, EXIT_FAIL, EXIT_OK
from scanner.clock import iso_utc, report_time
from scanner.model import printable


def _error(message: str) -> int:
    print(f"qgov: error: {printable(message, path=False)}", file=sys.stderr)
    return EXIT_ERROR


def _scan_options(args: argparse.Namespace) -> tuple[str, ...] | str:
    """The `qgov scan` options every task runs with; files are made absolute here."""
    options = ["--jobs", str(args.jobs)]
    for flag, value in (("--config", args.config), ("--osv-db", args.osv_db),
                        ("--policy", args.policy)):
        if value:
            path = Path(value).expanduser()
            if not path.exists():
                return f"{flag} {value}: no such file"
            options += [flag, str(path.resolve())]
    options += ["--no-engines"] if args.no_engines else []
    options += ["--no-cache"] if args.no_cache else []
    return tuple(options)


def cmd_org_scan(args: argparse.Namespace) -> int:
    from scanner.org.run import OrgRun, OrgRunError, RepoRecord, execute
    from scanner.org.sources import SourcesError, read_sources

    try:
        sources = read_sources(Path(args.sources))
    except SourcesError as exc:
        return _error(str(exc))
    if not sources:
        return _error(f"{args.sources}: lists no repository")
    options = _scan_options(args)
    if isinstance(options, str):
        return _error(options)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _error(f"{args.out}: cannot create the output folder ({exc.strerror})")
    stripped = [s for s in sources if s.had_credentials]
    if stripped:
        lines = ", ".join(str(s.line) for s in stripped[:10])
        print(f"qgov: warning: credentials removed from the URL on line(s) {lines} of "
              f"{args.sources}; qgov takes credentials only from git's credential helper or "
              "the environment", file=sys.stderr)
    workers = args.workers or os.cpu_count() or 1
    if args.scheduler is None:
        print(f"qgov: scanning {len(sources)} repositories on a local Dask cluster of "
              f"{workers} worker(s)", file=sys.stderr)
    else:
        print(f"qgov: scanning {len(sources)} repositories on the Dask cluster at "
              f"{printable(args.scheduler)}", file=sys.stderr)

    def progress(rec: RepoRecord, done: int, failed: int, remaining: int) -> None:
        what = {"scanned": "scanned", "unchanged": "unchanged, skipped",
                "failed": "FAILED"}[rec.status]
        detail = f" ({rec.commit[:12]}, {rec.seconds:.1f}s)" if rec.commit and rec.seconds \
            is not None and rec.status != "failed" else ""
        if rec.status == "failed":
            detail = f": {rec.reason}"
        print(f"[{done} done, {failed} failed, {remaining} remaining] {rec.name} {what}{detail}",
              file=sys.stderr, flush=True)

    run = OrgRun(
        sources=sources, out=out,
        clones=Path(args.clones).expanduser().resolve() if args.clones
        else out.resolve() / ".clones",
        scan_options=options, budget_seconds=args.timeout, workers=workers,
        scheduler=args.scheduler, rescan=args.rescan, on_record=progress,
    )
    try:
        records = execute(run, lambda: iso_utc(report_time()))
    except OrgRunError as exc:
        return _error(str(exc))
    counts = {s: sum(1 for r in records.values() if r.status == s)
              for s in ("scanned", "unchanged", "failed")}
    print(f"qgov: {len(sources)} repositories: {counts['scanned']} scanned, "
          f"{counts['unchanged']} unchanged, {counts['failed']} failed; results in {args.out} "
          f"(summary: {Path(args.out) / 'org-scan.json'})", file=sys.stderr)
    return EXIT_FAIL if counts["failed"] else EXIT_OK

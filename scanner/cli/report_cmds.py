"""`qgov report PATH… --out DIR`: the audit pack.

Each PATH is a repository: a folder (or file) scanned here with the team's config exactly as
`qgov scan` prepares it, or a qgov scan JSON file written elsewhere (`*.json`). The pack is
written to a temporary folder beside DIR and moved into place only when complete.

Exit codes: 0 the pack was written; 2 it was not (usage error, unusable input, an output
folder that is not empty without --force, a failure while writing: nothing is left behind).
The pack's content, not the exit code, says whether controls pass.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from copy import copy
from pathlib import Path

from scanner.catalog import Catalog, CatalogError, load_catalog
from scanner.cli.exits import EXIT_ERROR, EXIT_OK
from scanner.cli.scan_cmds import (
    ci_options,
    common_options,
    load_configured_baseline,
    prepare,
    scan_info,
)
from scanner.cli.scan_cmds import run as run_scan
from scanner.clock import report_time
from scanner.config import ConfigError, load_config_file
from scanner.model import printable
from scanner.pack.collect import (
    Collected,
    PackInputError,
    PackRequest,
    RepositoryScanner,
    ScannedRepository,
    collect,
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser(
        "report",
        help="write an audit pack: HTML/PDF report, findings, control matrix, evidence, "
        "signed manifest",
        description="Scan PATH… (folders, or qgov scan JSON files written elsewhere) and write "
        "an audit pack to --out: report.html, report.pdf, findings.json, findings.sarif, "
        "junit.xml, control-matrix.csv, the evidence relied on and manifest.json. Exit 0 when "
        "the pack was written, 2 when it was not.",
    )
    report.add_argument("paths", nargs="+", metavar="PATH",
                        help="folders or files to scan, or qgov scan JSON files (*.json)")
    report.add_argument("--out", required=True, metavar="DIR",
                        help="the pack folder to write (or DIR.zip with --zip)")
    report.add_argument("--frameworks", metavar="KEYS",
                        help="comma-separated frameworks to report (default: all; e.g. "
                        "iso27001,soc2)")
    report.add_argument("--ledger", metavar="FILE",
                        help="the governed job's audit ledger: verified and copied into the pack")
    report.add_argument("--ledger-key", metavar="FILE",
                        help="trusted public key of the ledger (PEM), kept outside its folder")
    report.add_argument("--attestations", metavar="FILE",
                        help="attestations.yaml for every repository (default: each scanned "
                        "folder's attestations: setting)")
    report.add_argument("--selftest", metavar="FILE",
                        help="selftest.json from qgov job selftest: the control-test results")
    report.add_argument("--vendors", action="append", default=[], metavar="DIR-or-FILE",
                        help="vendor profiles to assess (a folder of YAML files or a file; "
                        "repeatable)")
    report.add_argument("--baseline", metavar="FILE", help="treat findings in FILE as accepted")
    report.add_argument("--title", help="the report's title")
    report.add_argument("--zip", action="store_true",
                        help="write DIR.zip (or --out ending in .zip) instead of a folder")
    report.add_argument("--sign-key", metavar="KEY",
                        help="Ed25519 private key (PEM, from qgov pack keygen): sign manifest.json")
    report.add_argument("--force", action="store_true",
                        help="replace a non-empty --out (only once the new pack is complete)")
    common_options(report)
    ci_options(report, selection=False)
    report.set_defaults(handler=cmd_report)


def _error(message: str) -> int:
    print(f"qgov: error: {printable(message, path=False)}", file=sys.stderr)
    return EXIT_ERROR


def repository_scanner(args: argparse.Namespace, now: dt.datetime) -> RepositoryScanner:
    """Scan one PATH the way `qgov scan` would, with the report's scan options."""

    def scan(path: Path, today: dt.date) -> ScannedRepository:
        one = copy(args)
        one.paths = [str(path)]
        one.skip_path = [*args.skip_path, *_own_output(path, Path(args.out))]
        prepared = prepare(one)
        if isinstance(prepared, str):
            raise PackInputError(prepared)
        baseline = load_configured_baseline(prepared)
        if isinstance(baseline, str):
            raise PackInputError(baseline)
        result = run_scan(prepared, one, baseline, today).result
        return ScannedRepository(
            path=path,
            result=result,
            scan=scan_info(one, prepared, result, now),
            settings=prepared.settings,
            catalog=prepared.catalog,
        )

    return scan


def _own_output(root: Path, out: Path) -> list[str]:
    """Patterns leaving out the pack being written (and its zip) when it lies in the scanned
    folder, so a pack made twice in place does not scan the first one."""
    base, target = root.absolute(), out.absolute()
    if not root.is_dir() or base not in target.parents:
        return []
    rel = target.relative_to(base).as_posix()
    stem = rel.removesuffix(".zip")
    return [f"/{stem}/", f"/{stem}.zip"]


def _default_catalog(args: argparse.Namespace) -> Catalog:
    try:
        extra = []
        if args.config:
            settings = load_config_file(Path(args.config))
            extra = [settings.resolve(p) for p in settings.custom_catalog]
        return load_catalog(extra)
    except (CatalogError, ConfigError) as exc:
        raise PackInputError(str(exc)) from exc


def request_from(args: argparse.Namespace) -> PackRequest:
    frameworks = None
    if args.frameworks:
        frameworks = tuple(k.strip() for k in args.frameworks.split(",") if k.strip())
        if not frameworks:
            raise PackInputError("--frameworks: name at least one framework")
    return PackRequest(
        targets=tuple(Path(p) for p in args.paths),
        frameworks=frameworks,
        policy=Path(args.policy) if args.policy else None,
        ledger=Path(args.ledger) if args.ledger else None,
        ledger_key=Path(args.ledger_key) if args.ledger_key else None,
        attestations=Path(args.attestations) if args.attestations else None,
        selftest=Path(args.selftest) if args.selftest else None,
        vendors=tuple(Path(v) for v in args.vendors),
        title=args.title,
    )


def collect_from_args(args: argparse.Namespace, now: dt.datetime | None = None) -> Collected:
    """Everything the pack shows, from parsed `qgov report` arguments."""
    moment = now or report_time()
    request = request_from(args)
    for path in (request.policy, request.ledger, request.ledger_key, request.attestations,
                 request.selftest, *request.vendors):
        if path is not None and not path.exists():
            raise PackInputError(f"{path}: no such file or directory")
    scanner = repository_scanner(args, moment)
    return collect(request, scan_repository=scanner,
                   default_catalog=lambda: _default_catalog(args), now=moment)


def cmd_report(args: argparse.Namespace) -> int:
    from scanner.pack.write import PackWriteError, write_pack

    try:
        collected = collect_from_args(args)
    except PackInputError as exc:
        return _error(str(exc))
    try:
        written = write_pack(collected, Path(args.out), zip_output=args.zip, force=args.force,
                             sign_key=Path(args.sign_key) if args.sign_key else None)
    except PackWriteError as exc:
        return _error(str(exc))
    for line in written.summary_lines():
        print(line, file=sys.stderr)
    return EXIT_OK


def main_args(argv: Sequence[str]) -> argparse.Namespace:
    """`qgov report …` arguments parsed as the command line would (for builders and tests)."""
    from scanner.cli import build_parser

    return build_parser().parse_args(["report", *argv])

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

from scanner.catalog import Catalog, CatalogError
from scanner.cli.catalog_cmds import configured_catalog
from scanner.cli.exits import EXIT_ERROR, EXIT_OK
from scanner.cli.scan_cmds import (
    load_configured_baseline,
    prepare,
    scan_info,
)
from scanner.cli.scan_cmds import run as run_scan
from scanner.clock import report_time
from scanner.config import ConfigError
from scanner.model import printable
from scanner.pack.collect import (
    Collected,
    PackInputError,
    PackRequest,
    RepositoryScanner,
    ScannedRepository,
    collect,
)


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
        return configured_catalog(args.config)
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

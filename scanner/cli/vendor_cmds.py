"""`qgov vendor assess PROFILE…` and `qgov vendor compare PROFILE…`.

Exit codes: assess 0 when every profile is approvable at the tier (with or without
compensating controls), 1 when any is not approvable; compare 0 once the table is written;
both 2 for bad input (an unreadable, malformed or invalid profile, named with its line and
field on stderr), a broken catalog or an unwritable output file. Nothing is printed for a
run with bad input except the problems.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from scanner.catalog import CatalogError, load_catalog
from scanner.cli.exits import EXIT_ERROR, EXIT_FAIL, EXIT_OK
from scanner.model import Tier, printable
from scanner.vendors.assess import Assessment, assess_loaded
from scanner.vendors.compare import Verdict, compare, summarize
from scanner.vendors.profile import DataClass
from scanner.vendors.profile_loader import LoadedProfile, ProfileError, load_profile
from scanner.vendors.render import VendorFormat, render_assessment_report, render_comparison_report

_PROFILE_SUFFIXES = (".yaml", ".yml")
# What the text report prints beyond ASCII; a terminal that cannot show it gets ASCII.
_UNICODE_SAMPLE = "✓✗–—·…"


def _error(message: str) -> int:
    for line in message.splitlines() or [message]:
        print(f"qgov: error: {line}", file=sys.stderr)
    return EXIT_ERROR


def _profile_paths(arguments: list[str]) -> list[Path]:
    paths: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in _PROFILE_SUFFIXES)
            paths.extend(found or [path])  # an empty folder is reported as unreadable
        else:
            paths.append(path)
    return paths


def _assess(args: argparse.Namespace) -> list[Assessment] | int:
    loaded: list[LoadedProfile] = []
    problems: list[str] = []
    for path in _profile_paths(args.profiles):
        try:
            loaded.append(load_profile(path))
        except ProfileError as exc:
            problems.append(str(exc))
    if problems:
        return _error("\n".join(problems))
    try:
        catalog = load_catalog()
    except CatalogError as exc:
        return _error(str(exc))
    tier = Tier(args.tier)
    today = args.today or date.today()
    data = frozenset(DataClass(d) for d in args.data)
    return [
        assess_loaded(profile, tier=tier, today=today, data=data, catalog=catalog)
        for profile in loaded
    ]


def _ascii_only(stream: Any) -> bool:
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        _UNICODE_SAMPLE.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return True
    return False


def _emit(args: argparse.Namespace, render: Any, what: str) -> int | None:
    output_format = VendorFormat(args.format)
    if args.output is None:
        sys.stdout.write(render(output_format, _ascii_only(sys.stdout)))
        return None
    rendered = render(output_format, False)
    try:
        Path(args.output).write_text(rendered, encoding="utf-8")
    except OSError as exc:
        return _error(f"{printable(args.output)}: cannot write the report ({exc.strerror})")
    print(f"qgov: wrote {output_format.value} {what} to {printable(args.output)}",
          file=sys.stderr)
    return None


def cmd_vendor_assess(args: argparse.Namespace) -> int:
    assessments = _assess(args)
    if isinstance(assessments, int):
        return assessments
    failed = _emit(
        args,
        lambda fmt, ascii_only: render_assessment_report(assessments, fmt, ascii_only=ascii_only),
        "vendor assessment",
    )
    if failed is not None:
        return failed
    verdicts = [summarize(a).verdict for a in assessments]
    return EXIT_FAIL if Verdict.NOT_APPROVABLE in verdicts else EXIT_OK


def cmd_vendor_compare(args: argparse.Namespace) -> int:
    assessments = _assess(args)
    if isinstance(assessments, int):
        return assessments
    comparison = compare(assessments)
    failed = _emit(
        args,
        lambda fmt, ascii_only: render_comparison_report(comparison, fmt, ascii_only=ascii_only),
        "vendor comparison",
    )
    return EXIT_OK if failed is None else failed

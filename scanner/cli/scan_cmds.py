"""`qgov scan` and `qgov baseline create`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, get_args

from scanner import __version__
from scanner.catalog import Catalog, CatalogError, load_catalog
from scanner.cli.exits import EXIT_ERROR, EXIT_FAIL, EXIT_OK
from scanner.config import ConfigError, Settings, load_settings
from scanner.governed.errors import SpecError
from scanner.governed.policy import DataClass, LoadedPolicy, load_policy
from scanner.model import Severity
from scanner.pipeline import ScanRun, run_scan
from scanner.reports import OutputFormat, ScanReport, failing, render, use_color
from scanner.suppress.baseline import BaselineError, baseline_document, load_baseline

FAIL_CHOICES = ["critical", "high", "medium", "low", "info", "none"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scan = sub.add_parser(
        "scan",
        help="scan files or folders for control violations",
        description="Scan code, notebooks, IaC, CI workflows and manifests against the catalog.",
    )
    scan.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to scan")
    _common(scan)
    scan.add_argument("--format", choices=[f.value for f in OutputFormat], default=None)
    scan.add_argument("--output", "-o", metavar="FILE", help="write the report here, not stdout")
    scan.add_argument(
        "--fail-on",
        choices=FAIL_CHOICES,
        default=None,
        help="exit 1 when a finding at or above this severity remains (default: high)",
    )
    scan.add_argument("--baseline", metavar="FILE", help="treat findings in FILE as accepted")
    scan.add_argument("--show-timings", action="store_true", help="per-detector times on stderr")
    scan.set_defaults(handler=cmd_scan)

    baseline = sub.add_parser("baseline", help="manage baselines of accepted findings")
    baseline_sub = baseline.add_subparsers(dest="baseline_command", metavar="ACTION")
    create = baseline_sub.add_parser(
        "create", help="record the current findings' fingerprints (no secrets) in a file"
    )
    create.add_argument("paths", nargs="+", metavar="PATH")
    create.add_argument("-o", "--output", required=True, metavar="FILE")
    _common(create)
    create.set_defaults(handler=cmd_baseline_create)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help=".qgov.yaml or pyproject.toml to use")
    parser.add_argument("--osv-db", metavar="PATH", help="offline OSV database (folder or zip)")
    parser.add_argument("--tier", default=None, help="workload tier (default from config)")
    parser.add_argument(
        "--policy",
        metavar="FILE",
        help="organisation policy the provider inventory is checked against (default: policy: "
        "in the config, else the one policy found in the scanned tree)",
    )
    parser.add_argument(
        "--data-class",
        choices=get_args(DataClass),
        default=None,
        help="class of data the workload handles (default: what the tier implies)",
    )
    parser.add_argument("--jobs", type=int, default=None, help="worker processes")
    parser.add_argument(
        "--no-engines", action="store_true", help="skip bandit, semgrep and vulnerability lookups"
    )


def _error(message: str) -> int:
    print(f"qgov: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _absolute(value: str | None) -> str | None:
    return str(Path(value).expanduser().absolute()) if value else None


def _prepare(args: argparse.Namespace) -> tuple[list[Path], Settings, Catalog] | str:
    roots = [Path(p) for p in args.paths]
    for root in roots:
        if not root.exists() and not root.is_symlink():
            return f"{root}: no such file or directory"
    overrides: dict[str, Any] = {
        "fail_on": getattr(args, "fail_on", None),
        "format": getattr(args, "format", None),
        # Paths given on the command line are relative to the working directory, not to
        # the config file's folder, so make them absolute before they meet the config.
        "baseline": _absolute(getattr(args, "baseline", None)),
        "osv_db": _absolute(args.osv_db),
        "policy": _absolute(getattr(args, "policy", None)),
        "data_class": getattr(args, "data_class", None),
        "tier": args.tier,
        "jobs": args.jobs,
    }
    try:
        settings = load_settings(Path(args.config) if args.config else None, roots[0], overrides)
        if args.no_engines:
            settings = settings.model_copy(
                update={
                    "engines": settings.engines.model_copy(
                        update={"bandit": False, "semgrep": False, "vulnerabilities": False}
                    )
                }
            )
        catalog = load_catalog(settings.resolve(p) for p in settings.custom_catalog)
    except (ConfigError, CatalogError) as exc:
        return str(exc)
    return roots, settings, catalog


def _progress_printer() -> Any:
    if not sys.stderr.isatty():
        return None
    width = 30

    def show(done: int, total: int) -> None:
        filled = int(width * done / max(total, 1))
        sys.stderr.write(f"\r  scanning [{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done >= total:
            sys.stderr.write("\r" + " " * (width + 40) + "\r")
        sys.stderr.flush()

    return show


def _org_policy(settings: Settings) -> LoadedPolicy | None | str:
    """The policy named by --policy or the config (relative to the config file), or why it
    cannot be used."""
    if not settings.policy:
        return None
    try:
        return load_policy(settings.resolve(settings.policy))
    except SpecError as exc:
        return str(exc)


def _scan(args: argparse.Namespace, baseline: frozenset[str] = frozenset()) -> ScanRun | str:
    prepared = _prepare(args)
    if isinstance(prepared, str):
        return prepared
    roots, settings, catalog = prepared
    org_policy = _org_policy(settings)
    if isinstance(org_policy, str):
        return org_policy
    return run_scan(roots, settings, catalog, baseline=baseline, progress=_progress_printer(),
                    org_policy=org_policy)


def cmd_scan(args: argparse.Namespace) -> int:
    prepared = _prepare(args)
    if isinstance(prepared, str):
        return _error(prepared)
    roots, settings, catalog = prepared
    baseline: frozenset[str] = frozenset()
    if settings.baseline:
        try:
            baseline = load_baseline(settings.resolve(settings.baseline))
        except BaselineError as exc:
            return _error(str(exc))
    org_policy = _org_policy(settings)
    if isinstance(org_policy, str):
        return _error(org_policy)
    run = run_scan(roots, settings, catalog, baseline=baseline, progress=_progress_printer(),
                   org_policy=org_policy)
    fail_on = None if settings.fail_on == "none" else Severity(settings.fail_on)
    output_format = OutputFormat(settings.format)
    to_file = args.output is not None
    report = ScanReport(
        result=run.result,
        catalog=catalog,
        fail_on=fail_on,
        color=not to_file and output_format is OutputFormat.TEXT and use_color(sys.stdout.isatty()),
    )
    rendered = render(report, output_format)
    if to_file:
        try:
            Path(args.output).write_text(rendered, encoding="utf-8")
        except OSError as exc:
            return _error(f"{args.output}: cannot write report ({exc.strerror})")
        print(
            f"qgov: wrote {output_format.value} report to {args.output} "
            f"({len(run.result.active_findings)} findings)",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(rendered)
    if args.show_timings:
        for name, seconds in sorted(run.timings.items(), key=lambda kv: -kv[1]):
            print(f"  {name:<24} {seconds:8.3f}s", file=sys.stderr)
    return EXIT_FAIL if failing(report) else EXIT_OK


def cmd_baseline_create(args: argparse.Namespace) -> int:
    run = _scan(args)
    if isinstance(run, str):
        return _error(run)
    document = baseline_document(run.result.findings, __version__)
    try:
        Path(args.output).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        return _error(f"{args.output}: cannot write baseline ({exc.strerror})")
    count = len(document["findings"])  # type: ignore[arg-type]
    print(f"qgov: baseline with {count} fingerprints written to {args.output}", file=sys.stderr)
    return EXIT_OK

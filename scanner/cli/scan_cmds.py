"""`qgov scan` and `qgov baseline create|check`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, get_args

from scanner import __version__
from scanner.cache import ResultCache
from scanner.cache import default_dir as default_cache_dir
from scanner.catalog import Catalog, CatalogError, load_catalog
from scanner.cli.exits import EXIT_ERROR, EXIT_FAIL, EXIT_OK
from scanner.config import ConfigError, Settings, load_settings
from scanner.governance.lenient import PolicyFile, PolicyFileError, read_policy_file
from scanner.governed.policy import DataClass
from scanner.history import run_history
from scanner.model import Severity, printable
from scanner.pipeline import ScanRun, run_scan
from scanner.repo import Git, GitError, RepoRoot, RootError, common_folder, find_root
from scanner.reports import OutputFormat, ScanReport, failing, render, use_color
from scanner.suppress.baseline import (
    Baseline,
    BaselineError,
    baseline_document,
    load_baseline,
)
from scanner.targets import Selection, within

FAIL_CHOICES = ["critical", "high", "medium", "low", "info", "none"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scan = sub.add_parser(
        "scan",
        help="scan files or folders for control violations",
        description="Scan code, notebooks, IaC, CI workflows and manifests against the catalog.",
    )
    scan.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or folders to scan (default: .)"
    )
    _common(scan)
    _ci_options(scan, selection=True)
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
    create.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="FILE",
        help="the baseline to write; if it exists, its entries still found keep their owner, "
        "reason and expires",
    )
    _common(create)
    _ci_options(create, selection=False)
    create.set_defaults(handler=cmd_baseline_create)

    check = baseline_sub.add_parser(
        "check",
        help="list baseline entries past their expiry (exit 1 if any)",
        description="List the entries of a baseline whose 'expires' date has passed; they no "
        "longer suppress their findings. Exit 0: none; 1: some expired; 2: unusable file.",
    )
    check.add_argument("baseline_file", metavar="FILE", help="the baseline (JSON)")
    check.add_argument("--today", type=_day, metavar="YYYY-MM-DD", help="evaluate as of this day")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.set_defaults(handler=cmd_baseline_check)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from exc


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help=".qgov.yaml or pyproject.toml to use")
    parser.add_argument("--osv-db", metavar="PATH", help="offline OSV database (folder or zip)")
    parser.add_argument("--tier", default=None, help="workload tier (default from config)")
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
    parser.add_argument(
        "--policy",
        metavar="FILE",
        help="organisation policy (or exceptions file): checked with the scan, its exceptions "
        "register applies, and the provider inventory is checked against it (default: policy: "
        "in the config, else the one policy found in the scanned tree)",
    )


def _ci_options(parser: argparse.ArgumentParser, *, selection: bool) -> None:
    """Repository root, what to scan (scan only) and the result cache: the options CI
    pipelines and pre-commit need (README: Repository paths, changed files, the result
    cache and git history)."""
    parser.add_argument(
        "--root",
        metavar="DIR",
        help="repository root finding paths are relative to (default: the git work tree, "
        "else the nearest folder with .qgov.yaml, else the folder holding the targets)",
    )
    if selection:
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--staged", action="store_true",
            help="scan the content staged in git's index (added, copied, modified, renamed)",
        )
        which.add_argument(
            "--diff", metavar="REF",
            help="scan files changed since REF (REF...HEAD, plus staged, unstaged and "
            "untracked changes)",
        )
        which.add_argument(
            "--history", nargs="?", const="", metavar="RANGE",
            help="look for secrets in every blob of the git history (all refs, or RANGE, "
            "e.g. main..HEAD); PATHs narrow it to blobs under them",
        )
    parser.add_argument("--no-cache", action="store_true", help="do not use the result cache")
    parser.add_argument(
        "--cache-dir", metavar="DIR", help="result cache folder (default: the platform's)"
    )


def _error(message: str) -> int:
    print(f"qgov: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def _absolute(value: str | None) -> str | None:
    return str(Path(value).expanduser().absolute()) if value else None


@dataclass(frozen=True)
class _Prepared:
    roots: list[Path]
    settings: Settings
    catalog: Catalog
    policy: PolicyFile | None
    repo: RepoRoot


def _prepare(args: argparse.Namespace) -> _Prepared | str:
    roots = [Path(p) for p in args.paths or ["."]]
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
    given_root = Path(args.root) if args.root else None
    try:
        settings = load_settings(
            Path(args.config) if args.config else None, common_folder(roots), overrides,
            stop=given_root,
        )
        repo = find_root(
            roots, given=given_root, config_root=settings.root,
            config_dir=Path(settings.source_dir) if settings.source_dir else None,
        )
        if args.no_engines:
            settings = settings.model_copy(
                update={
                    "engines": settings.engines.model_copy(
                        update={"bandit": False, "semgrep": False, "vulnerabilities": False}
                    )
                }
            )
        catalog = load_catalog(settings.resolve(p) for p in settings.custom_catalog)
        policy = read_policy_file(settings.resolve(settings.policy)) if settings.policy else None
    except (ConfigError, CatalogError, PolicyFileError, RootError) as exc:
        return str(exc)
    return _Prepared(roots, settings, catalog, policy, repo)


def _selection(args: argparse.Namespace, prepared: _Prepared) -> Selection | None:
    """What --staged or --diff select (None: the targets as given); raises GitError."""
    if not getattr(args, "staged", False) and not getattr(args, "diff", None):
        return None
    repo = prepared.repo
    git = Git(repo)
    scopes = [repo.relative(r) or "" for r in prepared.roots]
    if args.staged:
        paths = within([entry.path for entry in git.staged()], scopes)
        return Selection(tuple(paths), staged=True, label="staged files", partial=True)
    changed = within(git.changed_since(args.diff), scopes)
    present = [p for p in changed if os.path.lexists(repo.path / p)]
    return Selection(
        tuple(present), label=f"files changed since {printable(args.diff)}", partial=True
    )


def _cache(args: argparse.Namespace, settings: Settings) -> tuple[ResultCache | None, list[str]]:
    if args.no_cache or not settings.cache:
        return None, []
    folder = Path(args.cache_dir).expanduser() if args.cache_dir else default_cache_dir()
    opened = ResultCache.open(folder)
    return (None, [opened]) if isinstance(opened, str) else (opened, [])


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


def _run(
    prepared: _Prepared,
    args: argparse.Namespace,
    baseline: Baseline | None = None,
) -> ScanRun:
    """The scan (or the history scan) ``args`` ask for; raises GitError."""
    cache, notices = _cache(args, prepared.settings)
    if getattr(args, "history", None) is not None:
        run = run_history(
            prepared.repo, prepared.settings, prepared.catalog, args.history or None,
            baseline=baseline or Baseline(), progress=_progress_printer(), cache=cache,
            scopes=[prepared.repo.relative(r) or "" for r in prepared.roots],
        )
    else:
        run = run_scan(
            prepared.roots,
            prepared.settings,
            prepared.catalog,
            baseline=baseline or Baseline(),
            progress=_progress_printer(),
            policy=prepared.policy,
            repo=prepared.repo,
            selection=_selection(args, prepared),
            cache=cache,
        )
    if notices:
        result = run.result
        run.result = result.model_copy(update={"notices": (*notices, *result.notices)})
    return run


def cmd_scan(args: argparse.Namespace) -> int:
    prepared = _prepare(args)
    if isinstance(prepared, str):
        return _error(prepared)
    settings, catalog = prepared.settings, prepared.catalog
    baseline = None
    if settings.baseline:
        try:
            baseline = load_baseline(settings.resolve(settings.baseline))
        except BaselineError as exc:
            return _error(str(exc))
    try:
        run = _run(prepared, args, baseline)
    except GitError as exc:
        return _error(str(exc))
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
    prepared = _prepare(args)
    if isinstance(prepared, str):
        return _error(prepared)
    output = Path(args.output)
    previous = None
    if output.exists() or output.is_symlink():
        # Re-creating in place keeps who accepted what and until when.
        try:
            previous = load_baseline(output)
        except BaselineError as exc:
            return _error(f"{exc} (refusing to overwrite it; remove it to start afresh)")
    run = _run(prepared, args)
    document = baseline_document(run.result.findings, __version__, previous)
    try:
        Path(args.output).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        return _error(f"{args.output}: cannot write baseline ({exc.strerror})")
    count = len(document["findings"])  # type: ignore[arg-type]
    print(f"qgov: baseline with {count} fingerprints written to {args.output}", file=sys.stderr)
    return EXIT_OK


def cmd_baseline_check(args: argparse.Namespace) -> int:
    try:
        baseline = load_baseline(Path(args.baseline_file))
    except BaselineError as exc:
        return _error(str(exc))
    today = args.today or date.today()
    expired = baseline.expired(today)
    undated = sum(1 for e in baseline.entries.values() if e.expires is None)
    if args.format == "json":
        print(json.dumps({
            "baseline": args.baseline_file,
            "today": today.isoformat(),
            "entries": len(baseline.entries),
            "without_expiry": undated,
            "expired": [
                {"fingerprint": e.fingerprint, "rule_id": e.rule_id, "path": e.path,
                 "owner": e.owner, "reason": e.reason, "expires": str(e.expires),
                 "line": e.line}
                for e in expired
            ],
        }, indent=2))
    else:
        for entry in expired:
            owner = f", owner {entry.owner}" if entry.owner else ""
            print(f"{args.baseline_file}:{entry.line or 1}: {entry.describe()} expired on "
                  f"{entry.expires}{owner}")
        print(f"{len(baseline.entries)} entries, {len(expired)} expired as of "
              f"{today.isoformat()}, {undated} without an expiry date")
    return EXIT_FAIL if expired else EXIT_OK

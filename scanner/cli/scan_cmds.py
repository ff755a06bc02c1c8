"""`qgov scan` and `qgov baseline create|update|prune|check`.

One scan writes any number of reports: the ``--format`` one to stdout (or ``--output``)
and each of ``--sarif/--junit/--json/--markdown/--codequality/--oscal FILE`` (``-`` is stdout).
The console always gets the summary and the gate line: with the text report on stdout, or
on stderr when stdout carries a machine report.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scanner import __version__
from scanner.cache import ResultCache
from scanner.cache import default_dir as default_cache_dir
from scanner.catalog import Catalog, CatalogError, load_catalog
from scanner.cli.exits import EXIT_ERROR, EXIT_FAIL, EXIT_OK
from scanner.cli.parsers.scan import EXTRA_OUTPUTS
from scanner.clock import report_time
from scanner.config import ConfigError, Settings, find_config, load_settings, rule_matches
from scanner.discover import invalid_patterns
from scanner.engines.osv import NO_DATABASE_NOTICE, database_problem
from scanner.engines.registry import engine_rules
from scanner.engines.semgrep_engine import NOT_FOUND_NOTICE
from scanner.history import run_history
from scanner.model import ScanResult, Severity, printable
from scanner.pipeline import ScanRun, run_scan
from scanner.repo import Git, GitError, RepoRoot, RootError, common_folder, find_root
from scanner.reports import OutputFormat, ScanReport, gate, render, use_color
from scanner.reports.docs import find_rule_docs
from scanner.reports.report import SKIPPED_BY_DESIGN
from scanner.reports.sarif import MAX_RESULTS, capped_findings
from scanner.reports.text import gate_line, summary_lines
from scanner.scan_info import ScanInfo, describe_scan
from scanner.status.controls import compute_status
from scanner.status.inputs import StatusInputError, StatusInputs, load_status_inputs
from scanner.suppress.baseline import (
    Baseline,
    BaselineEntry,
    BaselineError,
    baseline_document,
    load_baseline,
    pruned_document,
    updated_document,
)
from scanner.targets import Selection, within

if TYPE_CHECKING:
    from scanner.governance.lenient import PolicyFile


def status_inputs(args: argparse.Namespace, prepared: _Prepared) -> StatusInputs | str:
    settings = prepared.settings
    try:
        return load_status_inputs(
            prepared.catalog,
            attestations=settings.resolve(settings.attestations) if settings.attestations
            else None,
            selftest=Path(args.selftest) if getattr(args, "selftest", None) else None,
        )
    except StatusInputError as exc:
        return str(exc)


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
        "attestations": _absolute(getattr(args, "attestations", None)),
        "data_class": getattr(args, "data_class", None),
        "tier": args.tier,
        "jobs": args.jobs,
        "strict": getattr(args, "strict", None),
    }
    bad = invalid_patterns(args.skip_path)
    if bad:
        return f"--skip-path {bad[0]!r}: not a valid gitignore-style pattern"
    given_root = Path(args.root) if getattr(args, "root", None) else None
    try:
        settings = load_settings(
            Path(args.config) if args.config else None, common_folder(roots), overrides,
            stop=given_root,
        )
        repo = find_root(
            roots, given=given_root, config_root=settings.root,
            config_dir=Path(settings.source_dir) if settings.source_dir else None,
        )
        update: dict[str, Any] = {
            "exclude": [*settings.exclude, *args.skip_path],
            "disable_rules": [*settings.disable_rules, *args.skip_rule],
        }
        if args.no_engines:
            update["engines"] = settings.engines.model_copy(
                update={"bandit": False, "semgrep": False, "vulnerabilities": False}
            )
        settings = settings.model_copy(update=update)
        catalog = load_catalog(settings.resolve(p) for p in settings.custom_catalog)
    except (ConfigError, CatalogError, RootError) as exc:
        return str(exc)
    policy = None
    if settings.policy:
        # Loaded only when a policy is configured: its models take a third of a second.
        from scanner.governance.lenient import PolicyFileError, read_policy_file

        try:
            policy = read_policy_file(settings.resolve(settings.policy))
        except (ConfigError, PolicyFileError) as exc:
            return str(exc)
    for pattern in args.skip_rule:
        if not any(rule_matches(pattern, rule_id) for rule_id in catalog.rules):
            return f"--skip-rule {pattern}: matches no rule (the rules are in docs/rules/)"
    if settings.engines.vulnerabilities and settings.osv_db:
        # A mistyped path must not pass the gate with the check silently skipped.
        problem = database_problem(settings.resolve(settings.osv_db, roots[0].absolute()))
        if problem:
            return f"OSV database {settings.osv_db}: {problem}"
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
    if getattr(args, "no_cache", False) or not settings.cache:
        return None, []
    given = getattr(args, "cache_dir", None)
    folder = Path(given).expanduser() if given else default_cache_dir()
    opened = ResultCache.open(folder)
    return (None, [opened]) if isinstance(opened, str) else (opened, [])


def scan_info(
    args: argparse.Namespace, prepared: _Prepared, result: ScanResult,
    now: datetime | None = None,
) -> ScanInfo:
    """The ``scan`` section: targets with their git commits, time, tool, catalog, config."""
    config = Path(args.config) if getattr(args, "config", None) else find_config(
        prepared.roots[0])
    return describe_scan(prepared.roots, prepared.settings, prepared.catalog, result,
                         now=now or report_time(), config_file=config)


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
    today: date | None = None,
) -> ScanRun:
    """The scan (or the history scan) ``args`` ask for; raises GitError."""
    cache, notices = _cache(args, prepared.settings)
    if getattr(args, "history", None) is not None:
        run = run_history(
            prepared.repo, prepared.settings, prepared.catalog, args.history or None,
            baseline=baseline or Baseline(), progress=_progress_printer(), cache=cache,
            scopes=[prepared.repo.relative(r) or "" for r in prepared.roots],
            today=today,
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
            today=today,
        )
    if notices:
        result = run.result
        run.result = result.model_copy(update={"notices": (*notices, *result.notices)})
    return run


@dataclass(frozen=True)
class _Output:
    format: OutputFormat
    target: str  # a file name, or "-" for stdout


def _outputs(args: argparse.Namespace, settings: Settings) -> list[_Output] | str:
    outputs = [_Output(OutputFormat(settings.format), args.output or "-")]
    outputs += [_Output(fmt, getattr(args, fmt.value)) for fmt in EXTRA_OUTPUTS
                if getattr(args, fmt.value)]
    if outputs[0] == _Output(OutputFormat.TEXT, "-") and any(o.target == "-" for o in outputs[1:]):
        outputs.pop(0)  # `--markdown -`: the console summary on stderr stands in for the text
    targets = [o.target for o in outputs]
    if targets.count("-") > 1:
        return "only one report can go to stdout ('-'); give the others a FILE"
    clash = next((t for t in targets if t != "-" and targets.count(t) > 1), None)
    if clash:
        return f"{clash}: two reports would be written to the same file"
    return outputs


def cmd_scan(args: argparse.Namespace) -> int:
    prepared = _prepare(args)
    if isinstance(prepared, str):
        return _error(prepared)
    outputs = _outputs(args, prepared.settings)
    if isinstance(outputs, str):
        return _error(outputs)
    sarif = any(o.format is OutputFormat.SARIF for o in outputs)
    built = scan_report(args, prepared, sarif=sarif)
    if isinstance(built, str):
        return _error(built)
    report, run = built
    stdout_report = next((o for o in outputs if o.target == "-"), None)
    for output in outputs:
        if output is stdout_report:
            continue
        try:
            Path(output.target).write_text(render(report, output.format), encoding="utf-8")
        except OSError as exc:
            return _error(f"{output.target}: cannot write the {output.format.value} report "
                          f"({exc.strerror})")
        if not args.quiet:
            print(f"qgov: wrote the {output.format.value} report to {output.target}",
                  file=sys.stderr)
    _console(report, stdout_report, quiet=args.quiet, sarif=sarif)
    if args.show_timings:
        for name, seconds in sorted(run.timings.items(), key=lambda kv: -kv[1]):
            print(f"  {name:<24} {seconds:8.3f}s", file=sys.stderr)
    return EXIT_FAIL if gate(report).failed else EXIT_OK


def scan_report(
    args: argparse.Namespace, prepared: _Prepared, *, sarif: bool = False
) -> tuple[ScanReport, ScanRun] | str:
    """Scan as ``args`` ask and make the report every format renders (or an error message);
    what `qgov scan` does between reading its options and writing its reports."""
    settings, catalog = prepared.settings, prepared.catalog
    baseline = None
    if settings.baseline:
        try:
            baseline = load_baseline(settings.resolve(settings.baseline))
        except BaselineError as exc:
            return str(exc)
    evidence = status_inputs(args, prepared)
    if isinstance(evidence, str):
        return evidence
    try:
        run = _run(prepared, args, baseline)
    except GitError as exc:
        return str(exc)
    report = ScanReport(
        result=run.result,
        catalog=catalog,
        fail_on=None if settings.fail_on == "none" else Severity(settings.fail_on),
        strict=settings.strict,
        min_severity=Severity(args.severity) if args.severity else None,
        docs=find_rule_docs() if sarif else None,
        status=compute_status(run.result, catalog, attestations=evidence.attestations,
                              selftest=evidence.selftest),
        scan=scan_info(args, prepared, run.result),
    )
    return report, run


def _console(
    report: ScanReport, stdout_report: _Output | None, *, quiet: bool, sarif: bool
) -> None:
    """The report bound for stdout, then the summary and the gate line: the text report's
    own, else printed on stdout when no report uses it, else on stderr."""
    text_on_stdout = stdout_report is not None and stdout_report.format is OutputFormat.TEXT
    console = sys.stdout if stdout_report is None or text_on_stdout else sys.stderr
    report = replace(report, color=use_color(console.isatty()))
    dropped = capped_findings(report)[1] if sarif else 0
    if dropped and not quiet:
        print(f"warning: the SARIF report carries the {MAX_RESULTS:,} most severe of "
              f"{len(report.result.findings):,} results (GitHub's limit per run)",
              file=sys.stderr)
    if stdout_report is not None and not (text_on_stdout and quiet):
        shown = report if text_on_stdout else replace(report, color=False)
        sys.stdout.write(render(shown, stdout_report.format))
        sys.stdout.flush()
    if quiet:
        print(gate_line(report), file=console)
        return
    if not text_on_stdout:
        print("\n".join(summary_lines(report)), file=console)


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


def cmd_baseline_update(args: argparse.Namespace) -> int:
    return _change_baseline(args, prune=False)


def cmd_baseline_prune(args: argparse.Namespace) -> int:
    return _change_baseline(args, prune=True)


def _change_baseline(args: argparse.Namespace, *, prune: bool) -> int:
    """``update`` adds what is new and drops nothing; ``prune`` drops what is gone and adds
    nothing. Both keep owner, reason and expires, and write the file in place."""
    prepared = _prepare(args)
    if isinstance(prepared, str):
        return _error(prepared)
    settings = prepared.settings
    if args.baseline:
        path = Path(args.baseline)
    elif settings.baseline:
        path = settings.resolve(settings.baseline)
    else:
        return _error("which baseline? pass --baseline FILE (or set baseline: in the config)")
    try:
        previous = load_baseline(path)
    except BaselineError as exc:
        return _error(str(exc))
    run = _run(prepared, args)
    if prune:
        document, change = pruned_document(
            previous, run.result.findings, __version__, _unchecked(run.result, prepared)
        )
        counts = f"{change.dropped} dropped, {change.kept} kept"
        if change.unchecked:
            counts += f" ({change.unchecked} this scan could not check)"
    else:
        document, change = updated_document(previous, run.result.findings, __version__)
        counts = f"{change.added} added, {change.kept} kept"
        if change.gone:
            counts += f" ({change.gone} no longer found: `qgov baseline prune` drops them)"
    try:
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        return _error(f"{path}: cannot write baseline ({exc.strerror})")
    print(f"qgov: baseline {path}: {counts}", file=sys.stderr)
    return EXIT_OK


def _unchecked(result: ScanResult, prepared: _Prepared) -> Callable[[BaselineEntry], bool]:
    """Entries whose finding this scan could not have found, so a prune must keep them: the
    file was not fully examined, the rule is disabled, or the engine that owns the rule was
    off, missing or failed."""
    settings = prepared.settings
    troubled = {e.path for e in result.errors if e.reason not in SKIPPED_BY_DESIGN}
    engine_errors = [e for e in result.errors if e.reason in {"engine-error",
                                                               "engine-unavailable"}]
    enabled = settings.engines.model_dump()
    missing = {"semgrep": NOT_FOUND_NOTICE, "vulnerabilities": NO_DATABASE_NOTICE}
    # An unopenable OSV database is reported under its own name, not the engine's.
    unavailable = {"vulnerabilities"} if any(
        e.reason == "engine-unavailable" for e in engine_errors
    ) else set()
    blind: set[str] = set()
    for name, rules in engine_rules().items():
        if (
            not enabled.get(name, True)
            or name in unavailable
            or missing.get(name) in result.notices
            or any(e.path == "." or e.message.startswith(name) for e in engine_errors)
        ):
            blind |= rules

    def unchecked(entry: BaselineEntry) -> bool:
        rule = entry.rule_id or ""
        return (
            entry.path in troubled
            or rule in blind
            or (bool(rule) and settings.rule_disabled(rule))
        )

    return unchecked


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


def load_configured_baseline(prepared: _Prepared) -> Baseline | str | None:
    """The baseline the settings name (``--baseline``/``baseline:``), an error, or None."""
    settings = prepared.settings
    if not settings.baseline:
        return None
    try:
        return load_baseline(settings.resolve(settings.baseline))
    except BaselineError as exc:
        return str(exc)


# What `qgov controls status` and `qgov report` reuse to run the same scan.
Prepared = _Prepared
prepare = _prepare
run = _run
error = _error

"""The parsers of `qgov scan` and `qgov baseline create|update|prune|check`, and the scan
options `qgov controls status`, `qgov report` and `qgov org scan` share."""

from __future__ import annotations

import argparse
from datetime import date
from typing import get_args

from scanner.cli.parsers import handler
from scanner.model import DataClass
from scanner.output_format import OutputFormat

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
    common_options(scan)
    ci_options(scan, selection=True)
    _output_options(scan)
    gate_options = scan.add_argument_group("gate")
    gate_options.add_argument(
        "--fail-on",
        choices=FAIL_CHOICES,
        default=None,
        help="exit 1 when a finding at or above this severity remains (default: high)",
    )
    gate_options.add_argument(
        "--strict",
        action="store_true",
        default=None,
        help="also exit 1 on scan errors (files not fully examined, an engine that failed, an "
        "OSV database older than vuln_db_max_age) and when no file was scanned",
    )
    gate_options.add_argument(
        "--baseline", metavar="FILE", help="treat findings in FILE as accepted"
    )
    scan.add_argument("--show-timings", action="store_true", help="per-detector times on stderr")
    status_options(scan)
    scan.set_defaults(handler=handler("scan_cmds", "cmd_scan"))

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
    common_options(create)
    ci_options(create, selection=False)
    create.set_defaults(handler=handler("scan_cmds", "cmd_baseline_create"))

    for action, run, summary_text in (
        ("update", handler("scan_cmds", "cmd_baseline_update"),
         "add the findings not in the baseline yet; keep every entry (and its owner, reason "
         "and expires), found or not"),
        ("prune", handler("scan_cmds", "cmd_baseline_prune"),
         "drop the entries whose finding is gone; keep the rest as they are (entries this "
         "scan could not check stay)"),
    ):
        parser = baseline_sub.add_parser(action, help=summary_text, description=summary_text)
        parser.add_argument("paths", nargs="+", metavar="PATH", help="scan these, as for create")
        parser.add_argument(
            "--baseline", "-b", metavar="FILE",
            help="the baseline to change in place (default: baseline: in the config)",
        )
        common_options(parser)
        ci_options(parser, selection=False)
        parser.set_defaults(handler=run)

    check = baseline_sub.add_parser(
        "check",
        help="list baseline entries past their expiry (exit 1 if any)",
        description="List the entries of a baseline whose 'expires' date has passed; they no "
        "longer suppress their findings. Exit 0: none; 1: some expired; 2: unusable file.",
    )
    check.add_argument("baseline_file", metavar="FILE", help="the baseline (JSON)")
    check.add_argument("--today", type=_day, metavar="YYYY-MM-DD", help="evaluate as of this day")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.set_defaults(handler=handler("scan_cmds", "cmd_baseline_check"))


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {value!r}") from exc


def common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help=".qgov.yaml or pyproject.toml to use")
    parser.add_argument("--osv-db", metavar="PATH", help="offline OSV database (folder or zip)")
    parser.add_argument("--tier", default=None, help="workload tier (default from config)")
    parser.add_argument(
        "--data-class",
        choices=get_args(DataClass),
        default=None,
        help="class of data the workload handles (default: what the tier implies)",
    )
    parser.add_argument("--jobs", type=int, default=None,
                        help="worker processes for detection and bandit, and semgrep's threads")
    parser.add_argument(
        "--no-engines", action="store_true", help="skip bandit, semgrep and vulnerability lookups"
    )
    parser.add_argument(
        "--skip-rule",
        action="append",
        default=[],
        metavar="ID",
        help="do not report this rule (repeatable; QG-PY-* for a prefix); adds to disable_rules",
    )
    parser.add_argument(
        "--skip-path",
        action="append",
        default=[],
        metavar="PATTERN",
        help="leave out files matching this gitignore-style pattern (repeatable); adds to "
        "exclude",
    )
    parser.add_argument(
        "--policy",
        metavar="FILE",
        help="organisation policy (or exceptions file): checked with the scan, its exceptions "
        "register applies, and the provider inventory is checked against it (default: policy: "
        "in the config, else the one policy found in the scanned tree)",
    )


def _output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "reports",
        "Any number of reports from one scan. FILE may be '-' for stdout (one report at most). "
        "The summary and gate line always reach the console: on stderr when stdout carries "
        "a machine report.",
    )
    group.add_argument(
        "--format", choices=[f.value for f in OutputFormat], default=None,
        help="the main report (default: text)",
    )
    group.add_argument("--output", "-o", metavar="FILE", help="write the main report here")
    for fmt, what in EXTRA_OUTPUTS.items():
        group.add_argument(f"--{fmt.value}", metavar="FILE", help=f"also write {what}")
    group.add_argument(
        "--quiet", "-q", action="store_true",
        help="print only the gate line and errors (reports are still written)",
    )
    group.add_argument(
        "--severity", choices=FAIL_CHOICES[:-1], default=None,
        help="list only findings at or above this severity in the text and Markdown reports "
        "(the gate, counts and machine reports still cover all)",
    )


EXTRA_OUTPUTS = {
    OutputFormat.SARIF: "SARIF 2.1.0 (GitHub code scanning)",
    OutputFormat.JUNIT: "JUnit XML (CI test views)",
    OutputFormat.JSON: "the JSON report",
    OutputFormat.MARKDOWN: "a Markdown summary (PR comment, $GITHUB_STEP_SUMMARY)",
    OutputFormat.CODEQUALITY: "a GitLab Code Quality report (merge request widget)",
    OutputFormat.OSCAL: "OSCAL 1.2.1 assessment results (JSON: each control's status, "
    "findings as observations)",
}


def status_options(parser: argparse.ArgumentParser) -> None:
    """The evidence control status is computed with, beside what the scan checks."""
    parser.add_argument(
        "--attestations", metavar="FILE",
        help="attestations.yaml: controls people attest, with evidence files (default: "
        "attestations: in the config)",
    )
    parser.add_argument(
        "--selftest", metavar="FILE",
        help="selftest.json from qgov job selftest: the control-test results",
    )


def ci_options(parser: argparse.ArgumentParser, *, selection: bool) -> None:
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


"""The parser of `qgov report`."""

from __future__ import annotations

import argparse

from scanner.cli.parsers import handler
from scanner.cli.parsers.scan import ci_options, common_options


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
    report.set_defaults(handler=handler("report_cmds", "cmd_report"))

"""The parsers of `qgov controls list|show|status`."""

from __future__ import annotations

import argparse

from scanner.cli.parsers import handler
from scanner.cli.parsers.scan import ci_options, common_options, status_options
from scanner.model import Domain

FRAMEWORK_KEYS = ["iso27001", "soc2", "hipaa", "gdpr"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    controls = sub.add_parser("controls", help="browse the control catalog")
    controls_sub = controls.add_subparsers(dest="controls_command", metavar="ACTION")
    listing = controls_sub.add_parser("list", help="list controls")
    listing.add_argument("--framework", choices=FRAMEWORK_KEYS)
    listing.add_argument("--domain", choices=[d.value for d in Domain])
    listing.add_argument("--format", choices=["text", "json"], default="text")
    listing.add_argument("--config", metavar="FILE", help="config naming custom catalog folders")
    listing.set_defaults(handler=handler("catalog_cmds", "cmd_controls_list"))
    show = controls_sub.add_parser("show", help="show one control with its mappings and rules")
    show.add_argument("control_id", metavar="ID")
    show.add_argument("--format", choices=["text", "json"], default="text")
    show.add_argument("--config", metavar="FILE")
    show.set_defaults(handler=handler("catalog_cmds", "cmd_controls_show"))
    status = controls_sub.add_parser(
        "status",
        help="scan, then show each control's status and each framework requirement's",
        description="Scan PATH… and report every control as failing, accepted risk, passing "
        "(a rule that can fail it ran and found nothing), control-test passed/failed, attested, "
        "not applicable at the tier, or not assessed (with the reason), then every requirement "
        "of each framework with the controls covering it (not covered when none does).",
    )
    status.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to scan")
    common_options(status)
    ci_options(status, selection=False)
    status_options(status)
    status.add_argument("--baseline", metavar="FILE", help="treat findings in FILE as accepted")
    status.add_argument("--framework", metavar="KEY",
                        help="only this framework's requirements (iso27001, soc2, hipaa, gdpr …)")
    status.add_argument("--format", dest="status_format", choices=["text", "json", "csv"],
                        default="text")
    status.set_defaults(handler=handler("catalog_cmds", "cmd_controls_status"))

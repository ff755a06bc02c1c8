"""The parsers of `qgov vendor assess|compare`."""

from __future__ import annotations

import argparse
from datetime import date

from scanner.cli.parsers import handler
from scanner.model import Tier

# The values of scanner.vendors.profile.DataClass and scanner.vendors.render.VendorFormat,
# here so that building the parser loads no vendor code (a test keeps them equal).
VENDOR_DATA = ("personal", "health")
VENDOR_FORMATS = ("text", "json", "html")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    vendor = sub.add_parser(
        "vendor",
        help="assess and compare quantum vendors' security profiles",
        description="Hold quantum vendors' security profiles (YAML) against the procurement "
        "requirements for a workload tier.",
    )
    actions = vendor.add_subparsers(dest="vendor_command", metavar="{assess,compare}")
    actions.required = True
    assess = actions.add_parser(
        "assess",
        help="every gap of each profile, with controls, compensating controls and a risk entry",
        description="Assess vendor profiles at a tier. Exit 0 when every vendor is approvable "
        "(possibly with compensating controls), 1 when any is not, 2 for bad input.",
    )
    _options(assess)
    assess.set_defaults(handler=handler("vendor_cmds", "cmd_vendor_assess"))
    comparison = actions.add_parser(
        "compare",
        help="a side-by-side table of several vendors with a verdict for each",
        description="Compare vendor profiles side by side at a tier. Exit 0 once the table is "
        "written, 2 for bad input.",
    )
    _options(comparison)
    comparison.set_defaults(handler=handler("vendor_cmds", "cmd_vendor_compare"))


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("expected a real date written YYYY-MM-DD") from None


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "profiles", nargs="+", metavar="PROFILE",
        help="vendor profile YAML files, or folders holding them (*.yaml, *.yml)",
    )
    parser.add_argument(
        "--tier", choices=[t.value for t in Tier], default=Tier.INTERNAL_PILOT.value,
        help="workload tier the vendor would serve (default: internal-pilot)",
    )
    parser.add_argument(
        "--data", action="append", choices=list(VENDOR_DATA), default=[],
        help="data that may reach the vendor: personal (needs a GDPR DPA), health (needs a "
        "HIPAA BAA too); repeatable. regulated-pilot and production-critical imply personal",
    )
    parser.add_argument(
        "--format", choices=list(VENDOR_FORMATS), default=VENDOR_FORMATS[0]
    )
    parser.add_argument("--output", "-o", metavar="FILE", help="write the report here")
    parser.add_argument(
        "--today", type=_day, metavar="YYYY-MM-DD", default=None,
        help="assess as of this day instead of today (reproducible reports)",
    )

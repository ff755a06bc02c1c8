"""The parser of `qgov org scan`."""

from __future__ import annotations

import argparse
import sys

from scanner.cli.exits import EXIT_ERROR
from scanner.cli.parsers import handler

DEFAULT_TIMEOUT = 900.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    org = sub.add_parser("org", help="scan every repository of an organisation on Dask")
    org_sub = org.add_subparsers(dest="org_command", metavar="ACTION")
    scan = org_sub.add_parser(
        "scan",
        help="clone and scan many repositories, one Dask task each",
        description="Fetch a shallow clone of each repository SOURCES lists and scan it with "
        "the team's config, one Dask task per repository, on a local cluster or an existing "
        "one (--scheduler). Each result is written to DIR/NAME.json as soon as it is done; "
        "DIR/org-scan.json records every repository's status. Re-running skips repositories "
        "whose commit and config are unchanged. Exit 0: all scanned; 1: some failed; 2: the "
        "run could not start.",
    )
    scan.add_argument("sources", metavar="SOURCES",
                      help="a file of repository URLs or local paths (one a line, # comments), "
                      "or a folder of git checkouts")
    scan.add_argument("--out", required=True, metavar="DIR", help="where results are written")
    scan.add_argument("--clones", metavar="DIR",
                      help="where each worker keeps its clones (default: DIR/.clones)")
    scan.add_argument("--scheduler", metavar="ADDRESS",
                      help="an existing Dask scheduler (tcp://HOST:8786); default: a local "
                      "cluster")
    scan.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                      help="worker processes of the local cluster (default: the CPU count)")
    scan.add_argument("--timeout", type=_positive_float, default=DEFAULT_TIMEOUT, metavar="S",
                      help=f"time budget per repository, clone and scan (default: "
                      f"{DEFAULT_TIMEOUT:g})")
    scan.add_argument("--rescan", action="store_true",
                      help="scan every repository, even those unchanged since their result")
    options = scan.add_argument_group("scan options (as for qgov scan, applied to each)")
    options.add_argument("--config", metavar="FILE",
                         help="the team's .qgov.yaml (default: each repository's own)")
    options.add_argument("--no-engines", action="store_true",
                         help="skip bandit, semgrep and vulnerability lookups")
    options.add_argument("--osv-db", metavar="PATH", help="offline OSV database")
    options.add_argument("--policy", metavar="FILE", help="organisation policy")
    options.add_argument("--no-cache", action="store_true", help="do not use the result cache")
    options.add_argument("--jobs", type=_positive_int, default=1, metavar="N",
                         help="detector processes per repository scan (default: 1; the "
                         "repositories themselves run in parallel)")
    scan.set_defaults(handler=handler("org_cmds", "cmd_org_scan"))
    org.set_defaults(handler=lambda _args: _usage(org))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_ERROR


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a positive whole number: {value!r}")
    return number


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not number > 0:
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {value!r}")
    return number

"""The command line: the only place that parses arguments, prints and picks exit codes.

The parsers (scanner.cli.parsers) are built for every command and import almost nothing;
each command's handler module is imported only when that command runs.

Exit codes: 0 clean, 1 findings at/above the threshold (or a refused job / broken
ledger), 2 usage error, unreadable config or a scan that could not run. Never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scanner import __version__
from scanner.cli.exits import EXIT_ERROR, EXIT_OK
from scanner.cli.parsers import access, catalog, governed, org, pack, report, scan, vendor


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qgov",
        description=(
            "Compliance-as-code for quantum cloud workloads: scan repositories, browse the "
            "control catalog, prove controls with a governed job, assess quantum vendors."
        ),
    )
    parser.add_argument("--version", action="version", version=f"qgov {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    scan.register(sub)
    catalog.register(sub)
    register_governed(sub)
    vendor.register(sub)
    access.register(sub)
    report.register(sub)
    pack.register(sub)
    org.register(sub)
    return parser


def register_governed(subparsers: Any) -> None:
    """The governed-job command groups: `qgov job`, `qgov ledger` and `qgov token`."""
    governed.register(subparsers)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # argparse: --help (0) or usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_ERROR
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_ERROR
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        print("qgov: interrupted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        if os.environ.get("QGOV_DEBUG"):
            raise
        # Last resort: no traceback for users, and no exception text either, since it
        # may quote scanned content. The innermost qgov frame says where to look.
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if "scanner" in f.filename]
        where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
        print(
            f"qgov: internal error ({exc.__class__.__name__}{where}); please report it. "
            "Set QGOV_DEBUG=1 to see the traceback.",
            file=sys.stderr,
        )
        return EXIT_ERROR

"""The argument parsers of every command, apart from the code that carries them out.

Building ``qgov``'s parser must stay cheap: every command builds all of it, so a module here
imports only argparse-level things. A command's handler is named by module and function and
imported when that command runs (``qgov scan`` never loads the governed job, vendor reports
or the audit pack).
"""

from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Handler:
    """``module.function(args)``, imported on the first call."""

    module: str
    function: str

    def __call__(self, args: argparse.Namespace) -> int:
        return int(getattr(importlib.import_module(self.module), self.function)(args))


def handler(module: str, function: str) -> Handler:
    """The handler ``function`` of ``scanner.cli.<module>``."""
    return Handler(f"scanner.cli.{module}", function)

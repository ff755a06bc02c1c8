"""What the governed-job commands (`qgov job`, `qgov ledger`, `qgov token`) share.

The ``guard`` decorator turns a ``GovernedError`` or ``OSError`` into ``qgov: error: ...`` and
exit code 2 (never a traceback); ``emit`` prints the text lines or, with ``--format json``, the
payload; ``read_token`` reads the identity token from ``--token``, ``--token-env`` or mints a
demo one; the ``*_option`` helpers add the options several commands take. Every command sets
``handler`` to a guarded function ``(args) -> int``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scanner.cli.exits import EXIT_ERROR
from scanner.governed.errors import GovernedError

Handler = Callable[[argparse.Namespace], int]


def fail(message: str) -> int:
    print(f"qgov: error: {message}", file=sys.stderr)
    return EXIT_ERROR


def guard(handler: Handler) -> Handler:
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except GovernedError as exc:
            return fail(str(exc))
        except OSError as exc:  # an unwritable records/log folder and the like
            where = f"{exc.filename}: " if exc.filename else ""
            return fail(f"{where}{exc.strerror or exc}")

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


def emit(args: argparse.Namespace, payload: dict[str, Any], text: list[str]) -> None:
    if args.format == "json":
        print(json.dumps(payload, indent=2, sort_keys=False))
    else:
        print("\n".join(text))


def read_token(args: argparse.Namespace, policy: Any) -> tuple[str | None, str]:
    """The token and a description of where it came from (never the token itself)."""
    from scanner.governed.files import read_token_file, read_token_stream

    if args.token:
        if args.token == "-":
            return read_token_stream(sys.stdin), "stdin"
        return read_token_file(Path(args.token)), f"file {args.token}"
    if args.token_env:
        value = os.environ.get(args.token_env)
        if not value:
            raise GovernedError(f"--token-env {args.token_env}: the variable is not set")
        return value.strip(), f"${args.token_env}"
    subject = args.demo_identity or policy.demo_default_identity
    if subject is None:
        raise GovernedError(
            "no identity: pass --token FILE|-, --token-env VAR or --demo-identity SUBJECT "
            "(the policy names no demo_default_identity)"
        )
    return _mint_demo(policy, subject), f"demo identity {subject} (minted in-process, 5 min)"


def _mint_demo(policy: Any, subject: str, ttl: int = 300) -> str:
    from scanner.governed.tokens import demo_private_key, mint_token

    entry = policy.identity(subject)
    if entry is None:
        raise GovernedError(f"demo identity {subject!r} is not listed in the policy's identities")
    issuer = policy.issuer_by_name(entry.issuer)
    if not issuer.demo:
        raise GovernedError(
            f"identity {subject!r} belongs to issuer {issuer.name}, which is not a demo issuer"
        )
    kid = issuer.keys[0].kid
    return mint_token(
        demo_private_key(),
        issuer=issuer.issuer,
        audience=issuer.audience,
        subject=subject,
        kind=entry.kind,
        now=datetime.now(UTC),
        ttl_seconds=ttl,
        kid=kid,
    )

"""`qgov token mint`: mint a short-lived identity token with the demo issuer key or your own."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scanner.cli.exits import EXIT_OK
from scanner.cli.governed_common import command_group, fail, guard

DEMO_ISSUER = "https://demo.qgov.invalid/issuer"
DEMO_AUDIENCE = "qgov-governed-jobs"


def register(subparsers: Any) -> None:
    """Add the `token` command group to an argparse subparsers action."""
    actions = command_group(subparsers, "token", "identity token helpers", "mint")
    mint = actions.add_parser(
        "mint",
        help="mint a short-lived identity token (demo issuer or a given key)",
        description=(
            "Mint a signed, short-lived JWT. --demo signs with the demo issuer key derived from "
            "qgov's public demo seed (it proves nothing; refused outside dev/test). --key signs "
            "with your own private key PEM. The token goes to stdout or --out FILE (mode 0600)."
        ),
    )
    source = mint.add_mutually_exclusive_group(required=True)
    source.add_argument("--demo", action="store_true", help="use the public demo issuer key")
    source.add_argument("--key", type=Path, metavar="PEM", help="private key to sign with")
    mint.add_argument("--subject", required=True, help="the 'sub' claim")
    mint.add_argument(
        "--kind", choices=("human", "workload", "service"), help="identity kind claim"
    )
    mint.add_argument("--policy", type=Path, help="take issuer, audience and kind from this policy")
    mint.add_argument("--issuer", help="the 'iss' claim")
    mint.add_argument("--audience", help="the 'aud' claim")
    mint.add_argument("--kid", help="key id header")
    mint.add_argument(
        "--ttl", type=int, default=300, metavar="SECONDS", help="lifetime (default 300)"
    )
    mint.add_argument(
        "--out", type=Path, metavar="FILE", help="write the token here instead of stdout"
    )
    mint.set_defaults(handler=cmd_token_mint)


@guard
def cmd_token_mint(args: argparse.Namespace) -> int:
    from scanner.governed.policy import load_policy
    from scanner.governed.tokens import demo_private_key, load_private_key, mint_token

    if not 0 < args.ttl <= 3600:
        return fail("--ttl must be between 1 and 3600 seconds (tokens are short-lived)")
    issuer, audience, kind, kid = args.issuer, args.audience, args.kind, args.kid
    if args.policy:
        policy = load_policy(args.policy).policy
        entry = policy.identity(args.subject)
        if entry is None:
            return fail(f"subject {args.subject!r} is not listed in {args.policy}")
        configured = policy.issuer_by_name(entry.issuer)
        if args.demo and not configured.demo:
            return fail(f"subject {args.subject!r} belongs to non-demo issuer {configured.name}")
        issuer = issuer or configured.issuer
        audience = audience or configured.audience
        kind = kind or entry.kind
        kid = kid or configured.keys[0].kid
    if args.demo:
        key: Any = demo_private_key()
        issuer, audience = issuer or DEMO_ISSUER, audience or DEMO_AUDIENCE
    else:
        key = load_private_key(args.key)
    if not issuer or not audience or not kind:
        return fail("--issuer, --audience and --kind are needed (or --policy to look them up)")
    token = mint_token(
        key,
        issuer=issuer,
        audience=audience,
        subject=args.subject,
        kind=kind,
        now=datetime.now(UTC),
        ttl_seconds=args.ttl,
        kid=kid,
    )
    if args.out:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(token + "\n")
        print(
            f"token for {args.subject} ({kind}) written to {args.out}; valid {args.ttl} s",
            file=sys.stderr,
        )
    else:
        print(token)
    return EXIT_OK

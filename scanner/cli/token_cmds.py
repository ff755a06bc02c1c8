"""`qgov token mint`: mint a short-lived identity token with the demo issuer key or your own."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from typing import Any

from scanner.cli.exits import EXIT_OK
from scanner.cli.governed_common import fail, guard

DEMO_ISSUER = "https://demo.qgov.invalid/issuer"
DEMO_AUDIENCE = "qgov-governed-jobs"


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

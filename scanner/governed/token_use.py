"""One token, one request: refusing a token the ledger has already seen accepted.

Every accepted request puts the token's identifiers in its events' ``actor`` (issuer, the
SHA-256 of its ``jti``, the SHA-256 of the token). A second request with the same ``jti``
(from the same issuer) -- or, for a token without ``jti``, the same token -- within the
longest lifetime the policy allows is a replay. The caller checks and records the new use
under one ledger lock, so two processes cannot both spend the same token.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from scanner.governed.decision import Reason, reason
from scanner.governed.identity import IdentityCheck
from scanner.governed.ledger_queries import earlier_token_use
from scanner.governed.policy import OrgPolicy


def replay_reasons(
    check: IdentityCheck, events: list[dict[str, Any]], policy: OrgPolicy, now: datetime
) -> list[Reason]:
    identity = check.identity
    if identity is None:
        return []
    earlier = earlier_token_use(
        events,
        issuer=identity.issuer_name,
        jti_sha256=identity.token_id_sha256,
        token_sha256=identity.token_sha256,
        start=now - timedelta(seconds=policy.longest_token_lifetime_seconds),
    )
    if earlier is None:
        return []
    return [
        reason(
            "TOKEN_REPLAYED",
            f"this token was already accepted at {earlier.get('ts')} (ledger seq "
            f"{earlier.get('seq')}); a token is good for one request",
        )
    ]


def refuse_replay(
    check: IdentityCheck, events: list[dict[str, Any]], policy: OrgPolicy, now: datetime
) -> None:
    """Add the replay reason, if any, to ``check`` (which then is no longer ``ok``)."""
    check.reasons.extend(replay_reasons(check, events, policy, now))

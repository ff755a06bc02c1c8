"""Token claims with the wrong JSON types, replayed tokens, and revocation (tokens, subjects,
issuer keys), through the real governed path."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest

from scanner.governed.canonical import sha256_hex
from scanner.governed.errors import SpecError
from scanner.governed.identity import verify_token
from scanner.governed.ledger_queries import earlier_token_use, read_events
from tests.governed.helpers import ALICE, AUDIENCE, ISSUER, NOW, World


def claims(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": ALICE,
        "identity_kind": "human",
        "iat": int(NOW.timestamp()),
        "nbf": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 300,
        "jti": "jti-1",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def signed(world: World, **changes: Any) -> str:
    return jwt.encode(claims(**changes), world.issuer_key, algorithm="EdDSA", headers={"kid": "k1"})


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": str(int(NOW.timestamp()) + 300)},  # the reported attack: a string date
        {"exp": True},
        {"iat": str(int(NOW.timestamp()))},
        {"nbf": "0"},
        {"exp": float("inf")},
        {"jti": 12345},
        {"identity_kind": ["human"]},
    ],
)
def test_claims_of_the_wrong_type_are_refused(world: World, changes: dict[str, Any]) -> None:
    token = _raw_token(world, claims(**changes))
    check = verify_token(token, world.load().policy, environment="dev", now=NOW)
    assert not check.ok
    assert {r.code for r in check.reasons} & {"TOKEN_CLAIM_TYPES", "TOKEN_MALFORMED"}


def _raw_token(world: World, payload: dict[str, Any]) -> str:
    """Signed by hand: PyJWT's encoder refuses some of these payloads, an attacker's does not."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "EdDSA", "typ": "JWT", "kid": "k1"}).encode())
    body = b64(json.dumps(payload).encode())
    signature = world.issuer_key.sign(f"{header}.{body}".encode())
    return f"{header}.{body}.{b64(signature)}"


def test_string_expiry_token_does_not_run_a_job(world: World) -> None:
    token = signed(world, exp=str(int(NOW.timestamp()) + 300))
    outcome = world.run(token=token)
    assert outcome.status == "refused" and "TOKEN_CLAIM_TYPES" in outcome.decision.codes


def test_audience_may_be_a_list_of_strings(world: World) -> None:
    ok = verify_token(
        signed(world, aud=[AUDIENCE, "other"]), world.load().policy, environment="dev", now=NOW
    )
    assert ok.ok, ok.reasons


# -- replay -------------------------------------------------------------------------------------


def test_a_token_is_accepted_once(world: World) -> None:
    token = world.token()
    assert world.run("a", token=token).status == "completed"
    second = world.run("b", token=token)
    assert second.status == "refused" and second.decision.codes == ["TOKEN_REPLAYED"]
    events = read_events(world.ledger)
    rejected = [e for e in events if e["type"] == "identity.rejected"]
    assert len(rejected) == 1 and rejected[0]["actor"]["accepted"] is False
    # A refused replay does not count as a use: the original use is what is cited.
    assert "ledger seq" in second.decision.reasons[0].message


def test_same_jti_from_another_issuer_is_not_a_replay(world: World) -> None:
    world.policy["issuers"].append(
        {**world.policy["issuers"][0], "name": "second", "issuer": "https://second.invalid"}
    )
    world.policy["identities"].append(
        {"subject": "carol@tests.invalid", "kind": "human", "issuer": "second", "roles": ["researcher"]}
    )
    first = signed(world, jti="shared")
    other = signed(world, jti="shared", iss="https://second.invalid", sub="carol@tests.invalid")
    assert world.run("a", token=first).status == "completed"
    assert world.run("b", token=other).status == "completed"


def test_tokens_without_jti(world: World) -> None:
    bare = signed(world, jti=None)
    regulated = verify_token(bare, world.load().policy, environment="production", now=NOW)
    assert "TOKEN_CLAIMS_MISSING" in [r.code for r in regulated.reasons]
    assert world.run("a", token=bare).status == "completed"  # dev: accepted, keyed by hash
    assert world.run("b", token=bare).decision.codes == ["TOKEN_REPLAYED"]


def test_replay_lookup_is_bounded_by_the_token_lifetime(world: World) -> None:
    token = world.token()
    assert world.run("a", token=token).status == "completed"
    events = read_events(world.ledger)
    used = next(e for e in events if e["type"] == "identity.verified")["actor"]
    lookup = {
        "issuer": used["issuer"],
        "jti_sha256": used["token_jti_sha256"],
        "token_sha256": used["token_sha256"],
    }
    assert earlier_token_use(events, start=NOW - timedelta(hours=1), **lookup) is not None
    # Events older than the window are not even looked at (the walk stops there).
    assert earlier_token_use(events, start=NOW + timedelta(seconds=1), **lookup) is None
    window = world.load().policy.longest_token_lifetime_seconds
    assert window == 900 + 2 * 30


# -- revocation ---------------------------------------------------------------------------------


def revoke(world: World, **entry: Any) -> None:
    entry.setdefault("reason", "tests: leaked")
    entry.setdefault("revoked_at", (NOW - timedelta(minutes=1)).isoformat())
    world.policy.setdefault("revocations", []).append(entry)


@pytest.mark.parametrize(
    ("entry", "code"),
    [
        ({"jti": "jti-1"}, "TOKEN_REVOKED"),
        ({"jti_sha256": sha256_hex("jti-1")}, "TOKEN_REVOKED"),
        ({"jti": "jti-1", "issuer": "tests-idp"}, "TOKEN_REVOKED"),
        ({"subject": ALICE}, "IDENTITY_REVOKED"),
        ({"key_id": "k1"}, "ISSUER_KEY_REVOKED"),
    ],
)
def test_revoked_credentials_are_refused_with_the_reason_logged(
    world: World, entry: dict[str, Any], code: str
) -> None:
    revoke(world, **entry, reason="tests: pasted into a chat (INC-7)")
    outcome = world.run(token=signed(world))
    assert outcome.status == "refused" and code in outcome.decision.codes
    decision = next(e for e in read_events(world.ledger) if e["type"] == "job.decision")
    logged = [r for r in decision["data"]["reasons"] if r["code"] == code]
    assert logged and "pasted into a chat (INC-7)" in logged[0]["message"]
    assert "SEC-05" in logged[0]["control_ids"]


def test_revocation_applies_from_its_moment_and_to_its_target_only(world: World) -> None:
    revoke(world, jti="jti-1", revoked_at=(NOW + timedelta(hours=1)).isoformat())
    revoke(world, jti="jti-1", issuer="some-other-idp-name-that-is-unknown")  # refused below
    with pytest.raises(SpecError, match=r"revocations\.1\.issuer"):
        world.load()
    world.policy["revocations"].pop()
    assert world.run("a", token=signed(world)).status == "completed"  # not yet in force
    revoke(world, jti="another")
    assert world.run("b", token=signed(world, jti="jti-2")).status == "completed"


def test_a_date_revokes_from_the_start_of_that_day(world: World) -> None:
    revoke(world, subject=ALICE, revoked_at=NOW.date().isoformat())
    assert "IDENTITY_REVOKED" in world.run(token=signed(world)).decision.codes


@pytest.mark.parametrize(
    "entry",
    [
        {"reason": "r", "revoked_at": "2026-11-01"},  # no target
        {"jti": "a", "subject": "b", "reason": "r", "revoked_at": "2026-11-01"},  # two
        {"jti": "a", "revoked_at": "2026-11-01"},  # no reason
        {"jti_sha256": "abc", "reason": "r", "revoked_at": "2026-11-01"},  # not a digest
    ],
)
def test_malformed_revocations_are_policy_errors(world: World, entry: dict[str, Any]) -> None:
    world.policy["revocations"] = [entry]
    with pytest.raises(SpecError, match="revocations"):
        world.load()

"""Authorization, data gate, JIT approvals and quotas, through the real governed path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scanner.governed.canonical import sha256_hex
from scanner.governed.errors import SpecError
from scanner.governed.policy_sections import Backend, Burst, Project, Quota, TimeWindow
from scanner.governed.quota import burst_count, check_quota, cost_units, usage_for
from scanner.governed.runtime import Runtime
from tests.governed.helpers import ALICE, BOB, NOW, PIPELINE, World, approval


def refused(world: World, code: str, **kwargs: Any) -> list[str]:
    outcome = world.run(**kwargs)
    assert outcome.status == "refused", outcome.decision.codes
    assert code in outcome.decision.codes
    assert outcome.record_path is None
    return outcome.decision.codes


def test_allowed_job_completes(world: World) -> None:
    outcome = world.run()
    assert outcome.status == "completed", outcome.decision.codes
    assert outcome.decision.role == "researcher"


@pytest.mark.parametrize(
    ("mutate", "overrides", "code"),
    [
        (lambda p: p["roles"][0].update(expires="2026-11-24"), {}, "ROLE_EXPIRED"),
        (None, {"environment": "production"}, "ENVIRONMENT_NOT_ALLOWED"),
        (lambda p: p["roles"][0].update(environments=["test"]), {}, "ENVIRONMENT_NOT_ALLOWED"),
        (None, {"backend": "ibm_brisbane"}, "BACKEND_UNKNOWN"),
        (None, {"shots": 5000}, "SHOTS_OVER_LIMIT"),
        (None, {"project": "skunkworks"}, "PROJECT_UNKNOWN"),
        (lambda p: p["roles"][0].update(projects=[]), {}, "PROJECT_NOT_ALLOWED"),
        (None, {"role": "batch"}, "ROLE_NOT_ASSIGNED"),
        (
            lambda p: p["roles"][0].update(time_windows=[{"days": ["sat", "sun"]}]),
            {},
            "OUTSIDE_TIME_WINDOW",
        ),
        (
            lambda p: p["roles"][0].update(
                time_windows=[{"start": "11:30", "end": "12:00", "timezone": "Europe/Berlin"}]
            ),
            {},
            "OUTSIDE_TIME_WINDOW",
        ),
        # data gate (the world's dataset is registered as synthetic)
        (None, {"dataset": {"classification": "regulated"}}, "DATASET_CLASSIFICATION_MISMATCH"),
        (None, {"dataset": {"sha256": "ab" * 32}}, "DATASET_HASH_MISMATCH"),
        (None, {"dataset": {"path": "../missing.csv"}}, "DATASET_UNREADABLE"),
        (
            lambda p: (
                p["tiers"]["exploratory"].update(data_classes=["synthetic", "masked"]),
                p["roles"][0].update(data_classes=["synthetic"]),
                p["datasets"][0].update(classification="masked"),
            ),
            {"dataset": {"classification": "masked"}},
            "DATA_CLASS_NOT_ALLOWED_FOR_ROLE",
        ),
    ],
)
def test_refusals(world: World, mutate: Any, overrides: dict[str, Any], code: str) -> None:
    if mutate:
        world.edit(mutate)
    refused(world, code, **overrides)


def test_unregistered_regulated_data_cannot_enter_an_exploratory_tier(world: World) -> None:
    rows = "bucket,score\nb-1,0.5\n"
    (world.root / "rows.csv").write_text(rows)
    dataset = {"name": "rows", "path": "../rows.csv", "sha256": sha256_hex(rows)}
    refused(world, "DATA_CLASS_NOT_ALLOWED_FOR_TIER", dataset={**dataset, "classification": "regulated"})
    assert world.run("ok", dataset={**dataset, "classification": "synthetic"}).status == "completed"


def test_circuit_too_large_for_the_backend_is_refused_before_parsing(world: World) -> None:
    world.policy["backends"][0]["max_qubits"] = 1
    with pytest.raises(SpecError, match="declares 2 qubits; the backend allows at most 1"):
        world.run()


def test_time_window_allows_inside(world: World) -> None:
    # NOW is Wednesday 10:00 UTC = 11:00 in Berlin.
    window = TimeWindow(days=("wed",), start="10:30", end="11:30", timezone="Europe/Berlin")  # type: ignore[arg-type]
    assert window.contains(NOW)
    assert not window.contains(NOW + timedelta(hours=1))
    assert not window.contains(NOW + timedelta(days=1))


def test_refusal_lists_every_reason(world: World) -> None:
    codes = refused(
        world,
        "SHOTS_OVER_LIMIT",
        shots=5000,
        environment="production",
        dataset={"sha256": "0" * 64},
    )
    assert {"ENVIRONMENT_NOT_ALLOWED", "DATASET_HASH_MISMATCH", "PROJECT_ENVIRONMENT"} <= set(codes)


def test_role_must_be_named_when_several_are_held(world: World) -> None:
    world.policy["identities"][0]["roles"] = ["researcher", "batch"]
    refused(world, "ROLE_AMBIGUOUS")
    assert world.run(role="researcher").status == "completed"


def test_workload_cannot_use_a_human_role(world: World) -> None:
    world.policy["identities"][2]["roles"] = ["researcher"]
    refused(world, "ROLE_IDENTITY_KIND", token=world.token(PIPELINE, "workload"))


# -- JIT elevation -------------------------------------------------------------------------------


@pytest.fixture
def regulated(world: World) -> World:
    world.policy["backends"].append(
        {"name": "aer_vault", "regulated": True, "environments": ["regulated-pilot"]}
    )
    world.policy["projects"].append(
        {
            "name": "pilot",
            "owner": "budget@tests.invalid",
            "tier": "regulated-pilot",
            "environments": ["regulated-pilot"],
            "quota": {"shots": 100000},
        }
    )
    role = world.policy["roles"][0]
    role["environments"] = ["dev", "regulated-pilot"]
    role["backends"] = ["aer_sim", "aer_vault"]
    return world


REG: dict[str, Any] = {
    "project": "pilot",
    "environment": "regulated-pilot",
    "backend": "aer_vault",
}


def test_regulated_backend_needs_an_approval(regulated: World) -> None:
    refused(regulated, "APPROVAL_REQUIRED", **REG)
    refused(regulated, "APPROVAL_UNKNOWN", approval="nowhere", **REG)


def test_regulated_backend_runs_with_a_signed_approval(regulated: World) -> None:
    grant = regulated.grant("job", "run-regulated", approval="A", **REG)
    assert grant.granted, grant.reasons
    outcome = regulated.run(approval="A", **REG)
    assert outcome.status == "completed", outcome.decision.codes
    assert outcome.decision.approval_id == "A"
    event = next(e for e in events(regulated) if e["type"] == "approval.granted")
    body = event["data"]["approval"]
    assert (body["approver"], body["requester"], body["action"]) == (BOB, ALICE, "run-regulated")
    assert body["spec_sha256"] == sha256_hex((regulated.root / "jobs" / "job.yaml").read_bytes())
    assert event["data"]["signature"]["label"] == "qgov-approval/1"


def events(world: World) -> list[dict[str, Any]]:
    return [json.loads(line) for line in world.ledger.read_text().splitlines()]


@pytest.mark.parametrize(
    ("grant", "then", "code"),
    [
        # the approval covers something else
        ({"export_approval": "A"}, {"export_approval": "A"}, "APPROVAL_SCOPE"),
        ({"requester": PIPELINE}, {}, "APPROVAL_SCOPE"),
        ({}, {"shots": 128}, "APPROVAL_SCOPE"),  # the spec changed after approval
        # time
        ({"valid_for": timedelta(hours=1)}, {"later": timedelta(hours=2)}, "APPROVAL_EXPIRED"),
        ({}, {"later": -timedelta(hours=1)}, "APPROVAL_NOT_YET_VALID"),
        # today's policy
        ({"valid_for": timedelta(hours=4)}, {"max_hours": 2}, "APPROVAL_TOO_LONG"),
        ({}, {"approver": False}, "APPROVER_NOT_AUTHORISED"),
        ({}, {"revoke": BOB}, "APPROVAL_REVOKED"),
    ],
)
def test_approvals_are_checked_again_when_used(
    regulated: World, grant: dict[str, Any], then: dict[str, Any], code: str
) -> None:
    spec = {**REG, "approval": "A", **{k: v for k, v in grant.items() if k == "export_approval"}}
    action = "export" if "export_approval" in grant else "run-regulated"
    options = {k: v for k, v in grant.items() if k != "export_approval"}
    outcome = regulated.grant("job", action, **options, **spec)  # type: ignore[arg-type]
    assert outcome.granted, outcome.reasons
    if "later" in then:
        regulated.now = NOW + then["later"]
    if "max_hours" in then:
        regulated.policy["elevation"] = {"max_hours": then["max_hours"]}
    if "approver" in then:
        regulated.policy["identities"][1]["approver"] = then["approver"]
    if "revoke" in then:
        regulated.policy["revocations"] = [
            {"subject": then["revoke"], "reason": "tests", "revoked_at": NOW.isoformat()}
        ]
    overrides = {k: v for k, v in then.items() if k in ("shots", "export_approval")}
    token = regulated.token(issued=regulated.clock())
    refused(regulated, code, token=token, **{**spec, **overrides})


@pytest.mark.parametrize(
    ("options", "code"),
    [
        ({"approver": ALICE}, "APPROVAL_SELF_APPROVED"),
        ({"approver": PIPELINE, "token_kind": "workload"}, "APPROVER_NOT_AUTHORISED"),
        ({"valid_for": timedelta(hours=9)}, "APPROVAL_TOO_LONG"),
        ({"requester": "nobody@tests.invalid"}, "APPROVAL_SCOPE"),
    ],
)
def test_approve_refuses_what_may_not_approve(
    regulated: World, options: dict[str, Any], code: str
) -> None:
    kind = options.pop("token_kind", "human")
    token = regulated.token(options.get("approver", BOB), kind)
    outcome = regulated.grant("job", "run-regulated", token=token, approval="A", **options, **REG)
    assert not outcome.granted and code in [r.code for r in outcome.reasons]
    refusal = next(e for e in events(regulated) if e["type"] == "approval.refused")
    assert refusal["decision"] == "deny" and code in [r["code"] for r in refusal["data"]["reasons"]]
    refused(regulated, "APPROVAL_UNKNOWN", approval="A", **REG)  # nothing was granted


def test_approver_token_is_single_use_and_ids_are_unique(regulated: World) -> None:
    token = regulated.token(BOB)
    assert regulated.grant("job", "run-regulated", token=token, approval="A", **REG).granted
    again = regulated.grant("job2", "run-regulated", token=token, approval="B", **REG)
    assert [r.code for r in again.reasons] == ["TOKEN_REPLAYED"]
    same_id = regulated.grant("job3", "run-regulated", approval="A", **REG)
    assert [r.code for r in same_id.reasons] == ["APPROVAL_AMBIGUOUS"]


def test_approval_needs_an_id_in_the_spec(regulated: World) -> None:
    with pytest.raises(SpecError, match="no approval id to grant"):
        regulated.grant("job", "run-regulated", **REG)


def test_single_use_approvals(regulated: World) -> None:
    assert regulated.grant("job", "run-regulated", approval="A", single_use=True, **REG).granted
    assert regulated.run(approval="A", **REG).status == "completed"
    refused(regulated, "APPROVAL_USED", approval="A", **REG)
    # Reusable unless the policy makes every approval single-use.
    assert regulated.grant("other", "run-regulated", approval="B", **REG).granted
    assert regulated.run("other", approval="B", **REG).status == "completed"
    assert regulated.run("other", approval="B", **REG).status == "completed"
    regulated.policy["elevation"] = {"single_use": True}
    refused(regulated, "APPROVAL_USED", approval="B", **REG)


def test_unsigned_approvals_never_count(regulated: World) -> None:
    # An approvals file (or policy entry) in the approver's name is not an approval ...
    regulated.approvals.append(approval("F", project="pilot"))
    refused(regulated, "APPROVAL_UNSIGNED", approval="F", **REG)
    regulated.policy["approvals"] = [approval("P", project="pilot").model_dump(mode="json")]
    refused(regulated, "APPROVAL_UNSIGNED", approval="P", **REG)
    regulated.approvals.append(approval("P", project="pilot"))  # in the policy and the file
    refused(regulated, "APPROVAL_AMBIGUOUS", approval="P", **REG)
    # ... and an id that is also granted in the ledger is ambiguous, wherever it is used.
    grant = regulated.grant("job", "run-regulated", approval="G", **REG)
    assert grant.granted
    regulated.approvals.append(approval("G", project="pilot"))
    refused(regulated, "APPROVAL_AMBIGUOUS", approval="G", **REG)


def test_hand_written_approval_events_are_refused(regulated: World) -> None:
    assert regulated.grant("job", "run-regulated", approval="A", **REG).granted
    genuine = next(e for e in events(regulated) if e["type"] == "approval.granted")
    forged_body = {**genuine["data"]["approval"], "id": "X"}
    spec = regulated.spec("job", approval="X", **REG)
    forged_body["spec_sha256"] = sha256_hex(spec.read_bytes())
    with Runtime(regulated.context()) as rt:
        rt.ledger.append(
            "approval.granted",
            actor=genuine["actor"],
            decision="allow",
            subject={"approval_id": "X"},
            data={"approval": forged_body, "signature": genuine["data"]["signature"]},
        )
    refused(regulated, "APPROVAL_BAD_SIGNATURE", approval="X", **REG)


def test_export_is_its_own_authorised_event(world: World) -> None:
    target = world.root / "out" / "counts.json"
    outcome = world.run(export=target)
    assert outcome.status == "completed"
    assert outcome.export is not None and outcome.export.decision.codes == ["APPROVAL_REQUIRED"]
    assert not target.exists()

    assert world.grant("job2", "export", export_approval="E").granted
    outcome = world.run("job2", export=target, export_approval="E")
    assert outcome.export is not None and outcome.export.decision.allowed
    assert outcome.export.path == target and target.exists()
    assert oct(target.stat().st_mode & 0o777) == "0o640"

    world.policy["roles"][0]["can_export"] = False
    outcome = world.run("job2", export=target, export_approval="E")
    assert outcome.export is not None and "EXPORT_NOT_PERMITTED" in outcome.export.decision.codes


# -- quotas and bursts --------------------------------------------------------------------------


def test_quota_is_kept_in_the_ledger(world: World) -> None:
    world.policy["projects"][0]["quota"] = {"period": "month", "shots": 600}
    assert world.run("a", shots=256).status == "completed"
    assert world.run("b", shots=256).status == "completed"
    refused(world, "QUOTA_SHOTS_EXCEEDED", shots=256)
    # A refused job reserves nothing: a smaller one still fits.
    assert world.run("c", shots=64).status == "completed"
    # Next month the quota starts afresh.
    world.now = datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC)
    assert world.run("d", shots=256, token=world.token(issued=world.now)).status == "completed"


def test_cost_budget(world: World) -> None:
    world.policy["backends"][0].update(cost_units_per_job=2, cost_units_per_1000_shots=3)
    world.policy["projects"][0]["quota"] = {"cost_units": 5}
    assert world.run("a", shots=256).status == "completed"  # 2 + ceil(0.768) = 3 units
    refused(world, "QUOTA_COST_EXCEEDED", shots=256)


def test_burst_raises_an_alert_event(world: World) -> None:
    world.policy["projects"][0]["burst"] = {"max_jobs": 2, "window_seconds": 60}
    assert [world.run(f"j{n}", shots=8).alerts for n in range(2)] == [[], []]
    third = world.run("j3", shots=8)
    assert third.status == "completed" and third.alerts  # an alert, not a refusal
    from scanner.governed.ledger import verify_ledger

    lines = world.ledger.read_text(encoding="utf-8")
    assert lines.count('"type":"cost.anomaly"') == 1
    assert verify_ledger(world.ledger).intact


def _decision(
    ts: datetime, shots: int, verdict: str = "allow", project: str = "p"
) -> dict[str, Any]:
    return {
        "type": "job.decision",
        "ts": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "decision": verdict,
        "subject": {"project": project},
        "data": {"charge": {"shots": shots, "cost_units": 1}},
    }


def test_usage_periods_and_bursts() -> None:
    project = Project(
        name="p",
        owner="o",
        tier="exploratory",
        environments=("dev",),
        quota=Quota(period="day", shots=100),
        burst=Burst(max_jobs=2, window_seconds=600),
    )
    events = [
        _decision(NOW - timedelta(days=1), 90),  # yesterday: outside the period
        _decision(NOW - timedelta(minutes=5), 40),
        _decision(NOW - timedelta(minutes=4), 50, "deny"),  # refused: no charge
        _decision(NOW - timedelta(minutes=3), 30, project="other"),
    ]
    usage = usage_for(project, events, NOW)
    assert (usage.shots, usage.jobs) == (40, 1)
    assert check_quota(project, usage, 60, 0) == []
    assert [r.code for r in check_quota(project, usage, 61, 0)] == ["QUOTA_SHOTS_EXCEEDED"]
    # Two submissions (allow and deny) in the window plus this one exceed max_jobs=2.
    assert burst_count(project, events, NOW) == 3
    assert burst_count(project, events[:2], NOW) is None
    backend = Backend(
        name="b", environments=("dev",), cost_units_per_job=1, cost_units_per_1000_shots=3
    )
    assert cost_units(backend, 1) == 2 and cost_units(backend, 1000) == 4

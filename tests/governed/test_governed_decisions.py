"""Authorization, data gate, JIT approvals and quotas, through the real governed path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scanner.governed.policy import Backend, Burst, Project, Quota, TimeWindow
from scanner.governed.quota import burst_count, check_quota, cost_units, usage_for
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
        (lambda p: p["backends"][0].update(max_qubits=1), {}, "CIRCUIT_TOO_LARGE"),
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
        # data gate
        (None, {"dataset": {"classification": "regulated"}}, "DATA_CLASS_NOT_ALLOWED_FOR_TIER"),
        (None, {"dataset": {"sha256": "ab" * 32}}, "DATASET_HASH_MISMATCH"),
        (None, {"dataset": {"path": "../missing.csv"}}, "DATASET_UNREADABLE"),
        (
            lambda p: (
                p["tiers"]["exploratory"].update(data_classes=["synthetic", "masked"]),
                p["roles"][0].update(data_classes=["synthetic"]),
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


REG = {"project": "pilot", "environment": "regulated-pilot", "backend": "aer_vault"}


@pytest.mark.parametrize(
    ("record", "code"),
    [
        (None, "APPROVAL_REQUIRED"),
        (approval("A", requester=ALICE, approver=ALICE), "APPROVAL_SELF_APPROVED"),
        (approval("A", approver=PIPELINE), "APPROVER_NOT_AUTHORISED"),
        (approval("A", start=NOW - timedelta(hours=2)), "APPROVAL_EXPIRED"),
        (approval("A", start=NOW + timedelta(minutes=5)), "APPROVAL_NOT_YET_VALID"),
        (approval("A", hours=24), "APPROVAL_TOO_LONG"),
        (approval("A", "export"), "APPROVAL_SCOPE"),
        (approval("A", project="lab"), "APPROVAL_SCOPE"),
        (approval("A", requester=BOB), "APPROVAL_SCOPE"),
        (approval("B"), "APPROVAL_UNKNOWN"),
    ],
)
def test_regulated_backend_needs_a_valid_approval(regulated: World, record: Any, code: str) -> None:
    if record is not None:
        regulated.approvals.append(record)
    refused(regulated, code, approval="A" if record is not None else None, **REG)


def test_regulated_backend_runs_with_approval(regulated: World) -> None:
    regulated.approvals.append(approval("A", project="pilot", backend="aer_vault"))
    outcome = regulated.run(approval="A", **REG)
    assert outcome.status == "completed", outcome.decision.codes
    assert outcome.decision.approval_id == "A"


def test_export_is_its_own_authorised_event(world: World) -> None:
    target = world.root / "out" / "counts.json"
    outcome = world.run(export=target)
    assert outcome.status == "completed"
    assert outcome.export is not None and outcome.export.decision.codes == ["APPROVAL_REQUIRED"]
    assert not target.exists()

    world.approvals.append(approval("E", "export", project="lab"))
    outcome = world.run("job2", export=target, export_approval="E")
    assert outcome.export is not None and outcome.export.decision.allowed
    assert outcome.export.path == target and target.exists()
    assert oct(target.stat().st_mode & 0o777) == "0o640"

    world.policy["roles"][0]["can_export"] = False
    outcome = world.run("job3", export=target, export_approval="E")
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


def test_approvals_can_live_in_the_policy(regulated: World) -> None:
    record = approval("P", project="pilot").model_dump(mode="json")
    regulated.policy["approvals"] = [record]
    assert regulated.run(approval="P", **REG).status == "completed"

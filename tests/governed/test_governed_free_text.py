"""Free text a submitter chooses (job, project, dataset names and versions): a length and
character policy at validation, the scanner's detectors before any output, hashes where the
content is not needed -- in the log, the ledger, the execution record and the CLI output."""

from __future__ import annotations

import json
import secrets
import string
from typing import Any

import pytest

from scanner.governed.errors import SpecError
from scanner.governed.replay import replay
from scanner.governed.scrub import opaque_version, safe_text, scrub_free_text, text_problem
from scanner.governed.spec import load_job_spec
from tests.governed.helpers import World

AWS = "AKIA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))
EMAIL = "jane.roe" + "@" + "corp-mail.com"
SSN = "-".join(("078", "05", "1120"))


def outputs(world: World, *outcomes: Any) -> dict[str, str]:
    found = {
        "log": (world.ledger.parent / "governed.log").read_text(encoding="utf-8"),
        "ledger": world.ledger.read_text(encoding="utf-8"),
        "stdout": json.dumps([o.to_json() for o in outcomes]),
    }
    for n, outcome in enumerate(outcomes):
        if outcome.record_path is not None:
            found[f"record {n}"] = outcome.record_path.read_text(encoding="utf-8")
    return found


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "h q[0];\ncx q[0], q[1];"),  # circuit lines
        ("name", "a" * 129),
        ("name", "job\x1b[31mred"),
        ("name", "job\u202etxt.exe"),  # a bidi override
        ("project", "syn-0001,0.125000,0.875000"),  # a data row
        ("dataset.name", "row\t1\t2"),
        ("dataset.version", "P-0001,1985-02-03,078-05-1120"),
        ("backend", "aer sim"),
        ("role", "researcher;rm -rf"),
        ("export_approval", "A\nB"),
        ("description", "bell\x00pair"),
    ],
)
def test_free_text_policy_refuses_at_validation_without_quoting(
    world: World, field: str, value: str
) -> None:
    overrides: dict[str, Any] = {}
    if field.startswith("dataset."):
        overrides["dataset"] = {field.split(".")[1]: value}
    else:
        overrides["job_name" if field == "name" else field] = value
    path = world.spec("bad", **overrides)
    with pytest.raises(SpecError) as info:
        load_job_spec(path)
    message = str(info.value)
    assert f"'{field}'" in message
    for piece in value.split():
        if len(piece) > 3:
            assert piece not in message


def test_secrets_and_personal_data_in_names_never_reach_an_output(world: World) -> None:
    ran = world.run("ok", job_name=f"run-{AWS}", dataset={"name": "tests-data"})
    assert ran.status == "completed"
    refused = world.run(
        "refused", job_name=f"note-{EMAIL}", project=SSN, dataset={"version": SSN}
    )
    assert refused.status == "refused" and "PROJECT_UNKNOWN" in refused.decision.codes
    for where, text in outputs(world, ran, refused).items():
        for secret in (AWS, EMAIL, SSN):
            assert secret not in text, (where, secret)
    record = json.loads(ran.record_path.read_text())  # type: ignore[union-attr]
    assert record["job"]["name"].startswith("run-scrubbed:secret:")


def test_dataset_version_that_looks_like_data_is_stored_hashed(world: World) -> None:
    world.policy["datasets"][0]["version"] = "4111111111111111"  # a card number, say
    outcome = world.run(dataset={"version": "4111111111111111"})
    assert outcome.status == "completed", outcome.decision.codes
    assert "4111111111111111" not in world.ledger.read_text()
    assert "4111111111111111" not in outcome.record_path.read_text()  # type: ignore[union-attr]
    assert opaque_version("4111111111111111").startswith("sha256:")


def test_replay_does_not_copy_an_edited_record_name_into_the_ledger(world: World) -> None:
    outcome = world.run()
    assert outcome.record_path is not None
    record = json.loads(outcome.record_path.read_text())
    record["job"]["name"] = "rz(0.7853981633974483) q[0]; token " + AWS
    outcome.record_path.write_text(json.dumps(record))
    replay(outcome.record_path, world.context())
    ledger = world.ledger.read_text()
    assert "0.7853981633974483" not in ledger and AWS not in ledger


@pytest.mark.parametrize(
    ("value", "clean"),
    [
        ("bell-pair-demo", "bell-pair-demo"),
        ("2026.11.1", "2026.11.1"),
        (f"x-{EMAIL}", None),
        (AWS, None),
    ],
)
def test_scrub_helpers(value: str, clean: str | None) -> None:
    assert text_problem(value) is None
    result = safe_text(value)
    assert result == clean if clean is not None else value not in result
    assert safe_text(result) == result  # idempotent: the ledger may apply it again
    assert scrub_free_text(result) == result

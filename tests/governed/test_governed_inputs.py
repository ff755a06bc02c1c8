"""Policy, job spec, approvals and circuit loading: valid input loads, bad input names the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from scanner.governed.approvals import load_approvals
from scanner.governed.canonical import CanonicalError, canonical_json
from scanner.governed.circuits import load_circuit
from scanner.governed.errors import SpecError
from scanner.governed.policy import load_policy
from scanner.governed.spec import load_job_spec
from tests.governed.helpers import BELL, SAMPLES, World


def test_sample_policy_and_job_load() -> None:
    loaded = load_policy(SAMPLES / "policy" / "org-policy.yaml")
    policy = loaded.policy
    assert policy.demo_default_identity == "alice@example.org"
    assert all(role.owner and role.purpose and role.expires for role in policy.roles)
    assert {i.kind for i in policy.identities} == {"human", "workload", "service"}
    assert len(loaded.sha256) == 64
    spec = load_job_spec(SAMPLES / "jobs" / "bell.yaml")
    assert spec.spec.project == "qgov-demo" and spec.resolve(spec.spec.circuit.path).exists()


def _policy_error(world: World, mutate: Any) -> str:
    world.edit(mutate)
    with pytest.raises(SpecError) as info:
        world.load()
    return str(info.value)


@pytest.mark.parametrize(
    ("mutate", "field", "words"),
    [
        (lambda p: p["roles"][0].pop("owner"), "roles.0.owner", "Field required"),
        (lambda p: p["roles"][0].update(expires="soon"), "roles.0.expires", ""),
        (lambda p: p["roles"][0].update(environments=["staging"]), "roles.0.environments.0", ""),
        (
            lambda p: p["roles"][0].update(backends=["ibm_torino"]),
            "roles.0.backends",
            "unknown backend",
        ),
        (lambda p: p["identities"][0].update(roles=["root"]), "identities.0.roles", "unknown role"),
        (lambda p: p["identities"][0].update(kind="robot"), "identities.0.kind", ""),
        (lambda p: p["projects"][0].update(tier="production-critical"), "projects.0.tier", "tiers"),
        (lambda p: p["issuers"][0].update(algorithms=["HS256"]), "issuers.0.algorithms.0", ""),
        (
            lambda p: p["issuers"][0]["keys"][0].update(
                public_key_pem="-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----"
            ),
            "issuers.0.keys.0.public_key_pem",
            "private key does not belong",
        ),
        (
            lambda p: p["issuers"][0]["keys"][0].update(
                public_key_pem="-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----"
            ),
            "issuers.0.keys.0.public_key_pem",
            "not a readable public key",
        ),
        (
            lambda p: p["issuers"][0].update(max_token_lifetime_seconds=86400),
            "issuers.0.max_token_lifetime_seconds",
            "",
        ),
        (
            lambda p: p.update(demo_default_identity="alice@tests.invalid"),
            "demo_default_identity",
            "demo",
        ),
        (lambda p: p.update(surprise=True), "surprise", "Extra inputs"),
        (lambda p: p["identities"].append(dict(p["identities"][0])), "identities", "duplicate"),
    ],
)
def test_malformed_policy_names_the_field(
    world: World, mutate: Any, field: str, words: str
) -> None:
    message = _policy_error(world, mutate)
    assert f"field '{field}" in message
    assert words in message
    assert "Traceback" not in message


def test_time_window_accepts_unquoted_clock_times(world: World) -> None:
    # YAML 1.1 reads 07:30 as the integer 450; the policy must still mean half past seven.
    text = "days: [mon]\nstart: 07:30\nend: 19:00\n"
    from scanner.governed.policy_sections import TimeWindow

    window = TimeWindow.model_validate(yaml.safe_load(text))
    assert (window.start.hour, window.start.minute, window.end.hour) == (7, 30, 19)


def test_policy_that_is_not_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("policy: [unclosed\n", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid YAML"):
        load_policy(bad)
    with pytest.raises(SpecError, match="cannot read"):
        load_policy(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"shots": 0}, "shots"),
        ({"shots": "many"}, "shots"),
        ({"environment": "staging"}, "environment"),
        ({"dataset": {"sha256": "abc"}}, "dataset.sha256"),
        ({"dataset": {"classification": "secret"}}, "dataset.classification"),
        ({"priority": "high"}, "priority"),
        ({"circuit": {"path": "bell.qasm", "format": "python"}}, "circuit.format"),
    ],
)
def test_malformed_job_spec_names_the_field(
    world: World, overrides: dict[str, Any], field: str
) -> None:
    path = world.spec("bad", **overrides)
    with pytest.raises(SpecError) as info:
        load_job_spec(path)
    assert f"field '{field}'" in str(info.value)


def test_job_spec_missing_fields(world: World) -> None:
    path = world.root / "empty.yaml"
    path.write_text("name: x\n", encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_job_spec(path)
    for field in ("project", "environment", "backend", "circuit", "dataset", "shots"):
        assert f"field '{field}'" in str(info.value)


def test_circuit_loading_is_data_only_and_hash_ignores_formatting(tmp_path: Path) -> None:
    plain = tmp_path / "a.qasm"
    plain.write_text(BELL, encoding="utf-8")
    noisy = tmp_path / "b.qasm"
    noisy.write_text("// comment\n" + BELL.replace(";\n", " ;\n\n"), encoding="utf-8")
    first, second = load_circuit(plain), load_circuit(noisy)
    assert first.source_sha256 != second.source_sha256
    assert first.circuit_sha256 == second.circuit_sha256
    assert first.canonical_text.startswith("OPENQASM 3.0;")
    summary = first.summary()
    assert summary["num_qubits"] == 2 and summary["ops"] == {"h": 1, "cx": 1, "measure": 2}
    assert "cx q" not in str(summary)  # sizes and hashes only, never the text

    changed = tmp_path / "c.qasm"
    changed.write_text(BELL.replace("cx q[0], q[1];", "cz q[0], q[1];"), encoding="utf-8")
    assert load_circuit(changed).circuit_sha256 != first.circuit_sha256


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("print('hello')\n", "not OpenQASM"),
        ('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\nfoo q[0];\n', "not valid OpenQASM 2"),
        ('OPENQASM 2.0;\ninclude "/etc/passwd";\nqreg q[1];\n', "not valid OpenQASM 2"),
    ],
)
def test_bad_circuits_are_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.qasm"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_circuit(path)
    assert "field 'circuit.path'" in str(info.value) and message in str(info.value)


def test_approvals_file(tmp_path: Path) -> None:
    path = tmp_path / "approvals.yaml"
    path.write_text(
        "approvals:\n- id: A1\n  action: export\n  requester: a\n  approver: b\n  reason: r\n"
        "  approved_at: 2026-11-25T10:00:00Z\n  expires_at: 2026-11-25T09:00:00Z\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match=r"field 'approvals\.0\.expires_at'"):
        load_approvals(path)


def test_canonical_json_is_sorted_and_refuses_floats() -> None:
    assert (
        canonical_json({"b": 1, "a": [True, None, "é"]}) == '{"a":[true,null,"é"],"b":1}'.encode()
    )
    with pytest.raises(CanonicalError, match=r"\$\.x"):
        canonical_json({"x": 0.1})

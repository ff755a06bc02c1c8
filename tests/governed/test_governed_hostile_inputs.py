"""Hostile job inputs: spec paths that reach out, FIFOs and devices, huge or exponential
circuits, deeply nested YAML, and numbers or switches given as the wrong type."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from scanner.governed.circuits import MAX_EXPANDED_OPS, CircuitRefused, load_circuit, prescan
from scanner.governed.errors import SpecError
from scanner.governed.spec import load_job_spec
from tests.governed.helpers import BELL, World, qgov

SECRET_WORD = "eyJhbGciOiJFZERTQSJ9" + "c2VjcmV0LXdvcmQ"



def token_file(world: World) -> str:
    path = world.root / f"token-{len(world.minted)}.jwt"
    path.write_text(world.token())
    return str(path)


def cli_run(world: World, spec: Path, *extra: str) -> int:
    policy = world.write_policy()
    argv = ["job", "run", str(spec), "--policy", str(policy), "--ledger", str(world.ledger)]
    return qgov(*argv, *(extra or ("--token", token_file(world))))


def nothing_logged(world: World) -> bool:
    return not world.ledger.exists() or '"job.decision"' not in world.ledger.read_text()


# -- paths --------------------------------------------------------------------------------------


def test_circuit_path_outside_the_project_is_refused_unread(
    world: World, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "token.txt"
    elsewhere.write_text(SECRET_WORD + " more words\n")
    spec = world.spec(circuit={"path": str(elsewhere), "format": "openqasm2"})
    assert cli_run(world, spec) == 2
    err = capsys.readouterr().err
    assert "leaves the spec's folder" in err and "circuit.path" in err
    assert SECRET_WORD not in err and nothing_logged(world)


def test_parse_errors_never_quote_the_file(world: World) -> None:
    # Inside the project, but not a circuit: the parser's message would quote the first word.
    (world.root / "jobs" / "token.qasm").write_text(SECRET_WORD + "\n")
    with pytest.raises(SpecError) as info:
        load_circuit(world.root / "jobs" / "token.qasm", "openqasm2")
    assert SECRET_WORD not in str(info.value) and "line 1" in str(info.value)


def test_dataset_path_outside_the_project_writes_nothing(
    world: World, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    shadow = tmp_path_factory.mktemp("etc") / "shadow"
    shadow.write_text("root:$6$secret-hash:19000:0:99999:7:::\n")
    spec = world.spec(dataset={"path": str(shadow)})
    assert cli_run(world, spec) == 2
    assert "dataset.path" in capsys.readouterr().err
    assert nothing_logged(world)


def test_symlink_out_of_the_project_is_refused(
    world: World, tmp_path_factory: pytest.TempPathFactory
) -> None:
    target = tmp_path_factory.mktemp("outside") / "data.csv"
    target.write_text(world.dataset_text)
    (world.root / "jobs" / "link.csv").symlink_to(target)
    with pytest.raises(SpecError, match="leaves the spec's folder"):
        world.run(dataset={"path": "link.csv"})


def test_data_roots_allow_a_folder_outside_the_spec(world: World) -> None:
    assert world.policy["data_roots"] == ["."]  # the tests' world keeps its data at the root
    assert world.run().status == "completed"
    world.policy["data_roots"] = []
    with pytest.raises(SpecError, match="data_roots"):
        world.run("again")


# -- FIFOs, devices, size -----------------------------------------------------------------------


def _finishes(action: Any, seconds: float = 20) -> Any:
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = action()
        except BaseException as exc:  # noqa: BLE001 - reported below
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "blocked"
    if "error" in result:
        raise result["error"]
    return result.get("value")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_dataset_is_refused_not_waited_on(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    os.mkfifo(world.root / "jobs" / "pipe.csv")
    spec = world.spec(dataset={"path": "pipe.csv"})
    assert _finishes(lambda: cli_run(world, spec)) == 2
    assert "not a regular file" in capsys.readouterr().err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("what", ["spec", "policy", "circuit", "dataset", "token"])
def test_dev_zero_anywhere_is_a_clear_error(
    world: World, capsys: pytest.CaptureFixture[str], what: str
) -> None:
    world.policy["data_roots"] = [".", "/dev"]
    spec = world.spec()
    policy = world.write_policy()
    argv = ["job", "run", str(spec), "--policy", str(policy), "--ledger", str(world.ledger)]
    if what == "spec":
        argv[2] = "/dev/zero"
    elif what == "policy":
        argv[4] = "/dev/zero"
    elif what == "circuit":
        argv[2] = str(world.spec(circuit={"path": "/dev/zero"}))
    elif what == "dataset":
        argv[2] = str(world.spec(dataset={"path": "/dev/zero"}))
    argv += ["--token", "/dev/zero" if what == "token" else token_file(world)]
    assert _finishes(lambda: qgov(*argv)) == 2
    err = capsys.readouterr().err
    assert err.startswith("qgov: error:") and "not a regular file" in err


def test_oversized_token_from_stdin(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("x" * 70_000))
    assert cli_run(world, world.spec(), "--token", "-") == 2


# -- circuits -----------------------------------------------------------------------------------


def _nested(levels: int, fan_out: int = 2) -> str:
    lines = ['OPENQASM 2.0;', 'include "qelib1.inc";', "gate g0 a { h a; }"]
    lines += [
        f"gate g{n} a {{ " + " ".join([f"g{n - 1} a;"] * fan_out) + " }"
        for n in range(1, levels)
    ]
    return "\n".join([*lines, "qreg q[1];", f"g{levels - 1} q[0];", ""])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("OPENQASM 2.0;\nqreg q[2000000000];\n", "declares 2,000,000,000 qubits"),
        ("OPENQASM 2.0;\nqreg q[3];\nqreg r[40];\n", "declares 43 qubits"),
        ("OPENQASM 3.0;\nqubit[n] q;\n", "not a number"),
        ("OPENQASM 2.0;\ncreg c[99999];\n", "classical bits"),
        (_nested(200), "nests gate definitions 200 deep"),
        (_nested(8, fan_out=10), "expands to more than"),
        ("OPENQASM 2.0;\ngate a x { b x; }\ngate b x { a x; }\nqreg q[1];\na q[0];\n", "itself"),
        ("OPENQASM 2.0;\nqreg q[1];\n" + "h q[0];\n" * 25_000, "statements"),
        ("OPENQASM 3.0;\nqubit q;\nwhile (true) { h q; }\n", "while loop"),
        ("OPENQASM 3.0;\nqubit q;\nfor int i in [0:10000000] { h q; }\n", "for loop"),
    ],
)
def test_circuits_are_bounded_before_parsing(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "c.qasm"
    path.write_text(text)
    started = time.perf_counter()
    with pytest.raises(CircuitRefused, match=message):
        load_circuit(path)
    assert time.perf_counter() - started < 5


def test_prescan_accepts_ordinary_circuits() -> None:
    found = prescan(BELL, max_qubits=2)
    assert (found.qubits, found.clbits, found.gate_nesting) == (2, 2, 0)
    assert prescan(_nested(10), max_qubits=1).expanded_ops < MAX_EXPANDED_OPS
    with pytest.raises(CircuitRefused):
        prescan(BELL, max_qubits=1)


def test_the_backend_limit_bounds_the_prescan(world: World) -> None:
    world.policy["backends"][0]["max_qubits"] = 1
    with pytest.raises(SpecError, match="backend allows at most 1"):
        world.run()


# -- nested YAML --------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [900, 20_000])
@pytest.mark.parametrize("what", ["spec", "policy", "approvals"])
def test_deeply_nested_yaml_is_a_clear_error(
    world: World, capsys: pytest.CaptureFixture[str], depth: int, what: str
) -> None:
    deep = world.root / "deep.yaml"
    deep.write_text("name: " + "[" * depth + "]" * depth + "\n")
    spec, policy = world.spec(), world.write_policy()
    argv = ["job", "run", str(spec), "--policy", str(policy), "--ledger", str(world.ledger)]
    if what == "spec":
        argv[2] = str(deep)
    elif what == "policy":
        argv[4] = str(deep)
    else:
        argv += ["--approvals", str(deep)]
    assert qgov(*argv, "--token", token_file(world)) == 2
    err = capsys.readouterr().err
    assert err.startswith("qgov: error:") and "internal error" not in err
    assert "Traceback" not in err and "RecursionError" not in err


# -- strict types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"shots": True}, "shots"),
        ({"shots": "512"}, "shots"),
        ({"shots": 512.0}, "shots"),
        ({"seed": False}, "seed"),
    ],
)
def test_spec_numbers_are_strict(world: World, overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(SpecError, match=f"field '{field}'"):
        load_job_spec(world.spec(**overrides))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("roles", 0, "max_shots"), True),
        (("roles", 0, "max_shots"), "4096"),
        (("roles", 0, "can_export"), "yes please"),
        (("roles", 0, "can_export"), 1),
        (("issuers", 0, "max_token_lifetime_seconds"), True),
        (("identities", 1, "approver"), 1),
        (("backends", 0, "max_qubits"), 24.0),
        (("backends", 0, "regulated"), "false"),
        (("projects", 0, "quota", "shots"), True),
        (("ledger", "checkpoint_every"), True),
        (("elevation", "max_hours"), "8"),
        (("elevation", "single_use"), 0),
        (("access_reviews", "cadence_days"), True),
        (("execution", "default_seed"), False),
    ],
)
def test_policy_numbers_and_switches_are_strict(
    world: World, path: tuple[Any, ...], value: Any
) -> None:
    node: Any = world.policy
    for key in path[:-1]:
        node = node.setdefault(key, {}) if isinstance(key, str) else node[key]
    node[path[-1]] = value
    dotted = ".".join(str(p) for p in path)
    with pytest.raises(SpecError, match=f"field '{dotted}'"):
        world.load()


def test_yaml_written_by_hand_still_loads(world: World) -> None:
    text = yaml.safe_dump(world.policy)
    assert "max_shots: 4096" in text
    assert world.load().policy.roles[0].max_shots == 4096

"""The composite GitHub Action (action.yml), read and run the way the runner does.

Statically: every `uses:` is pinned to a commit SHA, every input is used, no `${{ }}`
reaches a `run:` script, and qgov's own CI rules find nothing in it. Dynamically: its shell
steps run in order under `bash --noprofile --norc -eo pipefail` (the runner's bash) with the
variables the runner provides (RUNNER_TEMP, GITHUB_ACTION_PATH, GITHUB_OUTPUT,
GITHUB_STEP_SUMMARY, GITHUB_WORKSPACE as the working folder), `${{ }}` in `env:` evaluated
from the inputs and the step outputs, on a sample repository with a baseline. The two
`uses:` steps cannot run here: setup-python is stood in for by this interpreter, and the
SARIF that upload-sarif would send is validated against the SARIF schema instead. The
install step really runs pip on this checkout; only qgov's dependencies come from this
environment (a .pth file), so pip fetches just the build backend from the package index.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from scanner.cli import main
from tests.conftest import AWS_KEY_ID, IBM_KEY
from tests.helpers import DATA, REPO, SAMPLES

ACTION = yaml.safe_load((REPO / "action.yml").read_text())
STEPS: list[dict[str, Any]] = ACTION["runs"]["steps"]
SHA_PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def test_action_is_pinned_uses_every_input_and_keeps_expressions_out_of_scripts() -> None:
    assert ACTION["runs"]["using"] == "composite"
    uses = [step["uses"] for step in STEPS if "uses" in step]
    assert uses and all(SHA_PINNED.match(u) for u in uses), uses
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    text = (REPO / "action.yml").read_text()
    for name in ACTION["inputs"]:
        assert f"inputs.{name}" in text.split("runs:", 1)[1], f"input {name} is never used"
    for step in STEPS:
        assert "${{" not in step.get("run", ""), step["name"]
        assert step.get("shell", "bash") == "bash"


def test_qgov_finds_nothing_in_its_own_action(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(REPO / "action.yml"), "--no-engines", "--fail-on", "info"]) == 0
    assert "0 findings" in capsys.readouterr().out


def _evaluate(text: str, context: dict[str, str]) -> str:
    """``${{ name }}`` replaced by its value (only plain names occur in env: here)."""
    return EXPRESSION.sub(lambda m: context.get(m.group(1), ""), text)


def _outputs(path: Path) -> dict[str, str]:
    lines = path.read_text().splitlines() if path.exists() else []
    return dict(line.split("=", 1) for line in lines if "=" in line)


def _run_action(workspace: Path, runner_temp: Path, action_path: Path,
                inputs: dict[str, str]) -> dict[str, Any]:
    """The action's shell steps in order, as the runner would run them."""
    given = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    given.update(inputs)
    bin_dir = runner_temp.parent / "bin"
    bin_dir.mkdir(exist_ok=True)
    if not (bin_dir / "python").exists():
        (bin_dir / "python").symlink_to(sys.executable)  # what setup-python puts on PATH
    summary = runner_temp / "step-summary.md"
    outputs: dict[str, dict[str, str]] = {}
    codes: dict[str, int] = {}
    for index, step in enumerate(STEPS):
        if "run" not in step:
            continue
        context = {f"inputs.{k}": v for k, v in given.items()}
        context.update({f"steps.{sid}.outputs.{k}": v
                        for sid, outs in outputs.items() for k, v in outs.items()})
        output_file = runner_temp / f"output-{index}"
        env = {
            "PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(runner_temp),
            "CI": "true", "GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(runner_temp),
            "GITHUB_WORKSPACE": str(workspace), "GITHUB_ACTION_PATH": str(action_path),
            "GITHUB_OUTPUT": str(output_file), "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "acme/quantum-lab",
            **{k: _evaluate(str(v), context) for k, v in step.get("env", {}).items()},
        }
        script = runner_temp / f"step-{index}.sh"
        script.write_text(step["run"])
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              cwd=workspace, env=env, capture_output=True, text=True,
                              timeout=600)
        codes[step["name"]] = done.returncode
        if "id" in step:
            outputs[step["id"]] = _outputs(output_file)
        if step["name"] == "Install qgov":
            assert done.returncode == 0, done.stderr
    return {"codes": codes, "outputs": outputs,
            "summary": summary.read_text() if summary.exists() else ""}


def _qgov_venv(runner_temp: Path) -> None:
    """The venv the install step makes, seeing this environment's packages, so pip has to
    build and install only qgov itself."""
    target = runner_temp / "qgov-venv"
    venv.EnvBuilder(with_pip=True).create(target)
    purelib = subprocess.run([str(target / "bin" / "python"), "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    (Path(purelib) / "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")


def test_action_scans_a_repository_with_a_baseline(tmp_path: Path) -> None:
    workspace = tmp_path / "work" / "quantum-lab"
    shutil.copytree(SAMPLES / "leaky-quantum-project", workspace)
    # `uses: acme/qgov@v1` is checked out at _actions/acme/qgov/v1.
    action_path = tmp_path / "_actions" / "acme" / "qgov" / "v1"
    action_path.parent.mkdir(parents=True)
    action_path.symlink_to(REPO)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    _qgov_venv(runner_temp)
    baseline = workspace / ".qgov-baseline.json"
    assert main(["baseline", "create", str(workspace), "-o", str(baseline), "--no-engines"]) == 0
    inputs = {"baseline": ".qgov-baseline.json", "extra-args": "--no-engines"}

    adopted = _run_action(workspace, runner_temp, action_path, inputs)
    assert adopted["codes"]["Gate"] == 0
    assert adopted["outputs"]["scan"]["exit-code"] == "0"
    assert "## qgov: ✅ gate passed" in adopted["summary"]

    (workspace / "src" / "new_job.py").write_text(
        f'from qiskit_ibm_runtime import QiskitRuntimeService\n'
        f'svc = QiskitRuntimeService(token="{IBM_KEY}")\nKEY = "{AWS_KEY_ID}"\n'
    )
    (runner_temp / "step-summary.md").unlink()
    regressed = _run_action(workspace, runner_temp, action_path, inputs)
    assert regressed["codes"]["Gate"] == 1
    assert regressed["outputs"]["scan"]["exit-code"] == "1"
    assert "## qgov: ❌ gate failed" in regressed["summary"]
    assert "src/new_job.py" in regressed["summary"] and IBM_KEY not in regressed["summary"]
    # What upload-sarif would send: valid SARIF, only the new findings open, rule pages at
    # the action's own repository and ref.
    sarif_file = Path(regressed["outputs"]["scan"]["sarif-file"])
    sarif = json.loads(sarif_file.read_text())
    jsonschema.validate(sarif, json.loads((DATA / "schemas/sarif-schema-2.1.0.json").read_text()))
    run = sarif["runs"][0]
    open_results = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    for r in run["results"] if not r.get("suppressions")}
    assert open_results == {"src/new_job.py"}
    help_uris = {r.get("helpUri") for r in run["tool"]["driver"]["rules"]}
    assert "https://github.com/acme/qgov/blob/v1/docs/rules/QG-SEC-003.md" in help_uris


def test_gate_step_maps_exit_codes(tmp_path: Path) -> None:
    [gate] = [s for s in STEPS if s["name"] == "Gate"]
    script = tmp_path / "gate.sh"
    script.write_text(gate["run"])
    for code, expected in (("0", 0), ("1", 1), ("2", 2), ("", 2)):
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                              env={"QGOV_EXIT": code, "PATH": os.environ["PATH"]},
                              capture_output=True, text=True)
        assert done.returncode == expected, (code, done.stdout)

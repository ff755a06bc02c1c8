"""The OCI image definition (Containerfile). No container engine runs here, so it is not
built: it is parsed with qgov's own Dockerfile parser and must pass qgov's own Dockerfile
rules, and its shape is checked (every base pinned by digest, a build stage whose tools do
not reach the final stage, a non-root user, qgov as the entrypoint)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from scanner.cli import main
from scanner.formats.dockerfile import parse_dockerfile
from tests.helpers import REPO

CONTAINERFILE = REPO / "Containerfile"
DIGEST = re.compile(r"^\S+@sha256:[0-9a-f]{64}(\s+AS\s+\S+)?$", re.I)


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in parse_dockerfile(CONTAINERFILE.read_text()):
        if instruction.keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((instruction.keyword.upper(), instruction.args.strip()))
    return stages


def test_image_is_pinned_non_root_and_leaves_build_tools_behind() -> None:
    stages = _stages()
    assert len(stages) == 2
    assert all(DIGEST.match(stage[0][1]) for stage in stages)
    build, final = stages
    assert any(k == "RUN" and "pip install /src" in a for k, a in build)
    final_keywords = [k for k, _ in final]
    # The final stage only copies the built venv: no source tree, no compiler, no installs.
    copies = [a for k, a in final if k == "COPY"]
    assert copies == ["--from=build /opt/qgov /opt/qgov"]
    assert not any(k == "RUN" and re.search(r"\b(apt|apt-get|pip|gcc|make)\b", a)
                   for k, a in final)
    user = [a for k, a in final if k == "USER"]
    assert user and user[-1].split(":")[0] not in {"root", "0"}
    assert final_keywords.index("USER") > final_keywords.index("RUN")
    entrypoint = [a for k, a in final if k == "ENTRYPOINT"]
    assert [json.loads(e) for e in entrypoint] == [["qgov"]]
    # Everything the build stage copies exists in the checkout.
    for keyword, args in build:
        if keyword == "COPY":
            for source in args.split()[:-1]:
                assert (REPO / source).exists(), source


def test_qgov_dockerfile_rules_pass_on_its_own_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["scan", str(CONTAINERFILE), "--no-engines", "--fail-on", "info"]) == 0
    assert "1 files scanned" in capsys.readouterr().out
    # The same rules do read it: without its USER line it is flagged.
    worse = tmp_path / "Containerfile"
    worse.write_text(re.sub(r"^USER .*\n", "", CONTAINERFILE.read_text(), flags=re.M))
    code = main(["scan", str(worse), "--no-engines", "--format", "json", "--fail-on", "info"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and [f["rule_id"] for f in doc["findings"]] == ["QG-DKR-004"]

"""semgrep with qgov's own rules (quantum SDK misuse bandit cannot see), once per scan.

The rules live beside this module in ``semgrep_rules/`` (one YAML file per rule, ids
QG-SG-001..; metadata in ``scanner/rules/semgrep.yaml``). The scan's Python files (exactly
the ones discovery kept, as discovery read them) are written to a private mirror folder and
semgrep runs once over that folder. Measured on 66 files: passing them as explicit paths
cost ~0.2 s per path (semgrep resolves a project for each one), the folder ~4 s in all, and
the folder also sidesteps argument-length limits. The mirror carries an empty
``.semgrepignore`` because semgrep's built-in defaults would otherwise skip ``tests/``.
Notebooks are not passed: these rules are about shared code, and the notebook detector
covers notebook-specific risks.

The executable is looked up beside ``sys.executable`` first (the venv's ``bin``), then on
``PATH``. Without it the engine returns one notice and no error. Metrics and the version
check are off, semgrep's settings and log files go to a private temporary folder, and the
run is bounded by ``semgrep_timeout`` seconds (setting, default 300). semgrep analyses with
``jobs`` threads (the scan's ``jobs`` budget) and may use at most ``semgrep_max_memory`` MiB
(setting, default 400) for one rule on one file: a file that needs more is a scan error
naming it, not a machine out of memory.

semgrep runs as its native command line (``--experimental``: the OCaml program alone, without
the Python wrapper ``pysemgrep``). Measured on one file with qgov's rules: 0.2 s and ~110 MB
instead of ~5 s and ~300-360 MB (PSS) for the wrapper, whose start-up and helper processes
were nearly all of it; a test holds both to the same findings on the rules' own test files.
``native=False`` runs the wrapper. Syntax errors in
targets are left to bandit, which reports them already; any other semgrep error becomes a
scan error.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from scanner.engines.interface import Engine, EngineOutput
from scanner.model import Confidence, FileKind, Issue, ScanError
from scanner.source import SourceFile

RULES_DIR = Path(__file__).with_name("semgrep_rules")
NOT_FOUND_NOTICE = "semgrep not found; its rules were skipped"
DEFAULT_TIMEOUT = 300
# MiB for one rule on one file (semgrep's --max-memory); qgov's rules are small and
# intra-file, so this bounds a pathological file without touching ordinary ones.
DEFAULT_MAX_MEMORY = 400


def find_semgrep() -> str | None:
    beside = Path(sys.executable).parent / ("semgrep.exe" if os.name == "nt" else "semgrep")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which("semgrep")


def write_mirror(sources: list[SourceFile], folder: Path) -> dict[str, SourceFile]:
    """Write each source's text under ``folder`` at its relative path; returns the
    absolute mirror path -> source map. Same-named files from different roots get their
    own sub-folders."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".semgrepignore").write_text("# qgov: scan every file given\n", encoding="utf-8")
    mirror: dict[str, SourceFile] = {}
    used: set[str] = set()
    for source in sources:
        rel = source.path
        copy = 0
        while rel.lower() in used or rel.startswith(".semgrepignore"):
            copy += 1
            rel = f"_root{copy}/{source.path}"
        used.add(rel.lower())
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(source.text, encoding="utf-8", errors="surrogatepass")
        mirror[str(target.absolute())] = source
    return mirror


def declared_rules(rules_dir: Path) -> frozenset[str]:
    """The ids the rule files declare (the same files semgrep is given)."""
    ids: set[str] = set()
    for path in sorted(rules_dir.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        ids.update(str(rule["id"]) for rule in document.get("rules", []))
    return frozenset(ids)


class SemgrepEngine(Engine):
    name = "semgrep"
    kinds = frozenset({FileKind.PYTHON})

    def __init__(
        self,
        executable: str | None = None,
        rules_dir: Path = RULES_DIR,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        jobs: int = 1,
        max_memory: int = DEFAULT_MAX_MEMORY,
        native: bool = True,
    ) -> None:
        self._executable = executable
        self.rules_dir = rules_dir
        self.timeout = timeout
        self.jobs = max(1, jobs)
        self.max_memory = max_memory  # 0: no limit
        self.native = native
        self.rules = declared_rules(rules_dir)

    def run(self, sources: list[SourceFile]) -> EngineOutput:
        output = EngineOutput()
        python = [s for s in sources if s.kind is FileKind.PYTHON]
        if not python:
            return output
        executable = self._executable or find_semgrep()
        if executable is None:
            output.notices.append(NOT_FOUND_NOTICE)
            output.not_run[self.name] = "semgrep is not installed"
            return output
        with tempfile.TemporaryDirectory(prefix="qgov-semgrep-") as scratch:
            tree = Path(scratch) / "tree"
            by_path = write_mirror(python, tree)
            if not self._invoke(executable, [str(tree)], by_path, scratch, output):
                output.not_run[self.name] = "semgrep did not complete (see the scan errors)"
        return output

    def _command(self, executable: str, targets: list[str]) -> list[str]:
        return [
            executable, "scan",
            "--config", str(self.rules_dir),
            "--metrics=off", "--disable-version-check",
            "--json", "--quiet",
            "--no-git-ignore", "--no-rewrite-rule-ids",
            "--timeout", "30",
            "--jobs", str(self.jobs),
            "--max-memory", str(self.max_memory),
            *(["--experimental"] if self.native else []),
            "--", *targets,
        ]

    def _invoke(
        self,
        executable: str,
        targets: list[str],
        by_path: dict[str, SourceFile],
        scratch: str,
        output: EngineOutput,
    ) -> bool:
        """Run semgrep; False when it produced no report (its rules checked nothing)."""
        seconds = self.timeout
        env = dict(os.environ)
        env.update(
            SEMGREP_SEND_METRICS="off",
            SEMGREP_ENABLE_VERSION_CHECK="0",
            SEMGREP_SETTINGS_FILE=str(Path(scratch) / "settings.yml"),
            SEMGREP_LOG_FILE=str(Path(scratch) / "semgrep.log"),
            SEMGREP_VERSION_CACHE_PATH=str(Path(scratch) / "version"),
        )
        try:
            completed = subprocess.run(  # noqa: S603 - fixed argv, no shell
                self._command(executable, targets),
                capture_output=True, text=True, timeout=seconds, env=env, cwd=scratch,
                check=False,
            )
        except subprocess.TimeoutExpired:
            output.errors.append(_engine_error(
                f"semgrep did not finish within {seconds:g} s; its rules were skipped "
                "(raise semgrep_timeout)"
            ))
            return False
        except OSError as exc:
            output.errors.append(_engine_error(
                f"semgrep could not be started ({exc.strerror or exc}); its rules were skipped"
            ))
            return False
        try:
            report: Any = json.loads(completed.stdout)
        except json.JSONDecodeError:
            detail = (completed.stderr or completed.stdout).strip().splitlines()
            last = detail[-1][:300] if detail else "no output"
            output.errors.append(_engine_error(
                f"semgrep failed (exit {completed.returncode}): {last}"
            ))
            return False
        if not isinstance(report, dict):
            output.errors.append(_engine_error("semgrep printed an unexpected report"))
            return False
        for result in report.get("results") or []:
            issue = _issue(result, by_path)
            if issue is not None:
                output.issues.append(issue)
        output.errors.extend(_errors(report.get("errors") or [], by_path))
        return True


def _engine_error(message: str) -> ScanError:
    return ScanError(path=".", reason="engine-error", message=message)


def _issue(result: Any, by_path: dict[str, SourceFile]) -> Issue | None:
    if not isinstance(result, dict):
        return None
    source = by_path.get(str(Path(str(result.get("path", ""))).absolute()))
    if source is None:
        return None
    rule_id = str(result.get("check_id", "")).rsplit(".", 1)[-1]
    start = result.get("start") or {}
    end = result.get("end") or {}
    line = int(start.get("line") or 1)
    end_line = int(end.get("line") or line)
    extra = result.get("extra") or {}
    message = " ".join(str(extra.get("message", "")).split())
    snippet = "\n".join(
        part.strip() for part in source.lines[line - 1 : end_line]
    ) if line <= len(source.lines) else ""
    metadata = extra.get("metadata") or {}
    confidence = Confidence.parse(metadata.get("confidence"), Confidence.HIGH)
    return Issue(
        rule_id=rule_id,
        message=message,
        path=source.path,
        line=line,
        end_line=end_line if end_line != line else None,
        column=int(start["col"]) if isinstance(start.get("col"), int) else None,
        confidence=confidence,
        # The matched code is not copied: for QG-SG-002 it holds the token itself.
        material=f"{rule_id}\x00{snippet}",
        engine="semgrep",
    )


_TARGET_SYNTAX = ("syntax", "lexical", "parse")


def _errors(errors: list[Any], by_path: dict[str, SourceFile]) -> Iterator[ScanError]:
    for error in errors:
        if not isinstance(error, dict):
            continue
        kind = str(error.get("type", ""))
        kind_text = json.dumps(error.get("type", "")).lower()
        path = str(error.get("path", "") or "")
        source = by_path.get(str(Path(path).absolute())) if path else None
        if source is not None and any(word in kind_text for word in _TARGET_SYNTAX):
            continue  # bandit already reports files Python cannot parse
        message = " ".join(str(error.get("message", kind)).split())[:300]
        yield ScanError(
            path=source.path if source is not None else ".",
            reason="engine-error",
            message=f"semgrep: {message}",
        )

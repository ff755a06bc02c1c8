"""bandit, run in-process once per scan over every Python file and notebook code cell.

Python files are handed to bandit by absolute path. Notebooks (python kernels only) are
turned into one ``.py`` per notebook in a private temporary folder: code cells in order,
IPython magics and shell escapes commented out (see ``notebook_code``), and a line map back
to (cell index, line of the ``.ipynb`` file). The mapping is exact for nbformat 4 files,
whose ``source`` arrays hold one line per element.

bandit test ids map to qgov rules through ``bandit_map.yaml`` (data); an unlisted id uses
the map's ``default`` rule. Severity combines bandit's severity and confidence:

    severity \\ confidence   HIGH     MEDIUM   LOW
    HIGH                    high     high     medium
    MEDIUM                  medium   medium   low
    LOW                     low      low      info

bandit's ``# nosec`` comments are honoured. In test files (``tests/``, ``test/``,
``test_*.py``, ``*_test.py``, ``conftest.py``) the assert (B101) and non-cryptographic
random (B311) checks are not reported, as usual bandit configurations do: pytest is built
on assert and test data on random. ``bandit_skip_in_tests: false`` reports them there too.

bandit's logging is silenced while it runs (it logs through the ``bandit`` logger, would
draw a progress bar on large trees, and its plugin loader logs through ``stevedore`` when
an optional formatter is missing). Files bandit
cannot parse are reported as parse errors; the hard-coded password tests (B105-B107) never
show the value, only a masked form.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from scanner.engines.interface import Engine, EngineOutput
from scanner.formats.errors import ParseError
from scanner.formats.notebook import NotebookPython, is_python_notebook
from scanner.model import Confidence, FileKind, Issue, ScanError, Severity
from scanner.source import SourceFile

MAP_FILE = Path(__file__).with_name("bandit_map.yaml")

_SEVERITY = {
    ("HIGH", "HIGH"): Severity.HIGH,
    ("HIGH", "MEDIUM"): Severity.HIGH,
    ("HIGH", "LOW"): Severity.MEDIUM,
    ("MEDIUM", "HIGH"): Severity.MEDIUM,
    ("MEDIUM", "MEDIUM"): Severity.MEDIUM,
    ("MEDIUM", "LOW"): Severity.LOW,
    ("LOW", "HIGH"): Severity.LOW,
    ("LOW", "MEDIUM"): Severity.LOW,
    ("LOW", "LOW"): Severity.INFO,
}
_PASSWORD_TESTS = frozenset({"B105", "B106", "B107"})
# What test code does by design: assert statements (pytest) and random test data.
TEST_FILE_EXEMPT = frozenset({"B101", "B311"})
_TEST_DIRS = frozenset({"tests", "test"})


def is_test_path(path: str) -> bool:
    """Whether ``path`` (POSIX, relative to the scan root) is test code: a file under a
    ``tests``/``test`` folder, ``test_*.py``, ``*_test.py`` or ``conftest.py``."""
    *folders, name = PurePosixPath(path).parts or ("",)
    if any(folder in _TEST_DIRS for folder in folders):
        return True
    return name == "conftest.py" or name.endswith("_test.py") or (
        name.startswith("test_") and name.endswith(".py")
    )


def _quoted_tail(text: str) -> str | None:
    """The value in bandit's "Possible hardcoded password: 'value'" (first quote to the
    last, which must end the text), found without a backtracking pattern."""
    stripped = text.rstrip()
    first = stripped.find("'")
    if first == -1 or first == len(stripped) - 1 or not stripped.endswith("'"):
        return None
    return stripped[first + 1 : -1]


class BanditMapError(Exception):
    """bandit_map.yaml is malformed."""


@dataclass(frozen=True)
class BanditMap:
    default: str
    by_test: dict[str, str]

    def rule_for(self, test_id: str) -> str:
        return self.by_test.get(test_id, self.default)

    @property
    def rule_ids(self) -> set[str]:
        return {self.default, *self.by_test.values()}


def _ordered(output: EngineOutput) -> EngineOutput:
    """Issues and errors in one order that does not depend on how the files were split
    or named in the scratch folder, so a sharded run equals a single one."""
    output.issues.sort(key=lambda i: (
        i.path or "", i.cell if i.cell is not None else -1, i.line or 0, i.column or 0,
        i.rule_id, i.message, i.material,
    ))
    output.errors.sort(key=lambda e: (e.path, e.line or 0, e.message))
    return output


def load_bandit_map(path: Path = MAP_FILE) -> BanditMap:
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BanditMapError(f"{path}: cannot load ({exc})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("default"), str):
        raise BanditMapError(f"{path}: needs a 'default' rule id and a 'rules' mapping")
    by_test: dict[str, str] = {}
    for rule_id, tests in (raw.get("rules") or {}).items():
        if not isinstance(tests, list):
            raise BanditMapError(f"{path}: {rule_id} must list bandit test ids")
        for test in tests:
            if str(test) in by_test:
                raise BanditMapError(f"{path}: {test} is mapped twice")
            by_test[str(test)] = str(rule_id)
    return BanditMap(default=raw["default"], by_test=by_test)


@contextmanager
def _quiet_bandit() -> Iterator[None]:
    """bandit's logger and the deprecation warnings its plugin loading raises stay out
    of the scan's output."""
    loggers = [logging.getLogger(name) for name in ("bandit", "stevedore")]
    saved = [(logger.level, logger.propagate) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
        logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, (level, propagate) in zip(loggers, saved, strict=True):
            logger.setLevel(level)
            logger.propagate = propagate


@dataclass
class _Target:
    source: SourceFile
    notebook: NotebookPython | None = None


class BanditEngine(Engine):
    name = "bandit"
    kinds = frozenset({FileKind.PYTHON, FileKind.NOTEBOOK})
    # bandit checks each file on its own: a scan splits the files over worker processes.
    shardable = True

    def __init__(self, mapping: BanditMap | None = None, *, skip_in_tests: bool = True) -> None:
        self.mapping = mapping or load_bandit_map()
        self.rules = frozenset(self.mapping.rule_ids)
        # B101/B311 are not reported in test files (see the module docstring).
        self.skip_in_tests = skip_in_tests

    def run(self, sources: list[SourceFile]) -> EngineOutput:
        output = EngineOutput()
        python = [s for s in sources if s.kind is FileKind.PYTHON]
        notebooks = [s for s in sources if s.kind is FileKind.NOTEBOOK]
        if not python and not notebooks:
            return output
        with tempfile.TemporaryDirectory(prefix="qgov-bandit-") as scratch:
            targets: dict[str, _Target] = {}
            for index, source in enumerate(python):
                if source.on_disk:
                    targets[str(Path(source.abs_path).absolute())] = _Target(source)
                    continue
                # Staged content (--staged) is not what the file on disk holds.
                path = Path(scratch) / f"staged_{index}.py"
                path.write_text(source.text, encoding="utf-8", errors="surrogatepass")
                targets[str(path)] = _Target(source)
            for index, source in enumerate(notebooks):
                prepared = self._prepare_notebook(source, output)
                if prepared is None or not prepared.code.strip():
                    continue
                path = Path(scratch) / f"notebook_{index}.py"
                path.write_text(prepared.code, encoding="utf-8")
                targets[str(path)] = _Target(source, prepared)
            if targets:
                self._run_bandit(targets, output)
        return _ordered(output)

    def prepare(self) -> None:
        with _quiet_bandit():
            from bandit.core import manager  # noqa: F401 - loads bandit's plugins once

    def combine(self, parts: Sequence[EngineOutput]) -> EngineOutput:
        return _ordered(super().combine(parts))

    @staticmethod
    def _prepare_notebook(source: SourceFile, output: EngineOutput) -> NotebookPython | None:
        if not is_python_notebook(source):
            return None
        try:
            prepared = source.notebook_python
        except ParseError:
            return None  # the notebook detector reports the broken file
        output.errors.extend(
            ScanError(
                path=source.path,
                reason="parse-error",
                message=f"cell {cell} is not valid Python ({message}); bandit skipped that cell",
                line=line,
            )
            for cell, line, message in prepared.unparsable_cells
        )
        return prepared

    def _run_bandit(self, targets: dict[str, _Target], output: EngineOutput) -> None:
        with _quiet_bandit():
            from bandit.core import config as bandit_config
            from bandit.core import manager as bandit_manager

            manager = bandit_manager.BanditManager(
                bandit_config.BanditConfig(), "file", quiet=True
            )
            manager.discover_files(sorted(targets), recursive=False)
            manager.run_tests()
            issues = manager.get_issue_list()
            skipped = manager.get_skipped()
        for fname, reason in skipped:
            target = targets.get(str(Path(fname).absolute()))
            if target is None:
                continue
            output.errors.append(
                ScanError(
                    path=target.source.path,
                    reason="parse-error",
                    message=f"bandit could not analyse the file: {reason}",
                )
            )
        for issue in issues:
            target = targets.get(str(Path(issue.fname).absolute()))
            if target is None:
                continue
            if (
                self.skip_in_tests
                and str(issue.test_id) in TEST_FILE_EXEMPT
                and is_test_path(target.source.path)
            ):
                continue
            output.issues.append(self._issue(issue, target))

    def _issue(self, issue: Any, target: _Target) -> Issue:
        test_id = str(issue.test_id)
        line = int(issue.lineno or 1)
        linerange = [int(n) for n in (issue.linerange or [line])]
        end = max(linerange) if linerange else line
        cell: int | None = None
        if target.notebook is not None:
            code_lines = target.notebook.code.split("\n")
            cell, mapped = target.notebook.origin(line)
            _end_cell, mapped_end = target.notebook.origin(end)
            text_line = code_lines[line - 1] if line <= len(code_lines) else ""
            line = mapped or 1
            end = mapped_end if mapped_end and mapped_end >= line else line
        else:
            lines = target.source.lines
            text_line = lines[line - 1] if line <= len(lines) else ""
        text = str(issue.text)
        secret = None
        if test_id in _PASSWORD_TESTS:
            secret = _quoted_tail(text)
            text = "Possible hard-coded password"
        severity = _SEVERITY.get((str(issue.severity), str(issue.confidence)), Severity.MEDIUM)
        return Issue(
            rule_id=self.mapping.rule_for(test_id),
            message=f"[{test_id}] {text}",
            path=target.source.path,
            line=line,
            end_line=end if end != line else None,
            column=int(issue.col_offset) + 1 if getattr(issue, "col_offset", -1) >= 0 else None,
            cell=cell,
            severity=severity,
            confidence=Confidence.parse(issue.confidence, Confidence.MEDIUM),
            secret=secret,
            material=f"{test_id}\x00{text_line.strip()}",
            engine="bandit",
        )

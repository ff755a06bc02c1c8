"""Reading the shell scripts of CI jobs (GitHub ``run:``, GitLab ``script:``), for both
platforms: where each script line sits in the file, whether a position is quoted, which
printing commands leak a secret (and where to, and how bad that is), environment dumps,
shell variables, commands that evaluate their argument again as code, and ``pip install``
commands that name packages without an exact version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scanner.formats.pip_args import unpinned_requirements
from scanner.model import Severity
from scanner.source import SourceFile

# Commands that dump every variable, secrets included.
DUMP_ENV = re.compile(r"^\s*(?:env|printenv|export\s+-p|set)\s*(?:$|[|;>])")
SHELL_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")
# Commands that parse their argument again as code.
REEVALUATED = re.compile(
    r"\beval\b|\b(?:ba|z|da)?sh\s+-c\b|\bpython3?\s+-c\b|\bnode\s+-e\b|\bruby\s+-e\b"
    r"|\bperl\s+-e\b|\bpwsh\s+-c(?:ommand)?\b"
)

_PIPE_OR_MASK = re.compile(r"\|(?!\|)|::add-mask::")
_PRINT_COMMAND = re.compile(r"^\s*(?:echo|printf|print|cat\s+<<|write-host|write-output)\b", re.I)
_REDIRECT = re.compile(r"(?<![<>&0-9])>{1,2}\s*(?P<target>\"?[^\s;&|]+)")
_LOG_SAFE_TARGETS = re.compile(r"GITHUB_ENV|GITHUB_OUTPUT|GITHUB_PATH|/dev/null|&\d")


@dataclass(frozen=True)
class ScriptLine:
    line: int  # line in the file
    text: str


# A script line is searched for this far below its key, no further.
_SEARCH_WINDOW = 400


def script_lines(source: SourceFile, start: int, script: str) -> list[ScriptLine]:
    """Map each line of a YAML scalar to its file line, searching forward from ``start``."""
    result: list[ScriptLine] = []
    cursor = start
    for piece in script.split("\n"):
        needle = piece.strip()
        found = source.find_line(needle, cursor, cursor + _SEARCH_WINDOW) if needle else None
        if found is None and needle:
            # A folded scalar (`run: >`) joins several file lines into one: it starts at
            # the first line that opens it.
            found = source.find_line(
                needle.split(" ", 1)[0], cursor, cursor + _SEARCH_WINDOW
            )
        line = found if found is not None else cursor
        result.append(ScriptLine(line, piece))
        cursor = max(cursor, line)
    return result


def _unquoted_spans(text: str) -> list[tuple[int, int, str]]:
    """Split a shell line into (start, end, state) runs: state is '', "'" or '"'."""
    spans: list[tuple[int, int, str]] = []
    state = ""
    start = 0
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and state != "'":
            index += 2
            continue
        if state == "" and char in "'\"":
            spans.append((start, index, state))
            state, start = char, index + 1
        elif state and char == state:
            spans.append((start, index, state))
            state, start = "", index + 1
        index += 1
    spans.append((start, len(text), state))
    return spans


def quote_state_at(text: str, position: int) -> str:
    """The quoting at ``position`` of a shell line: '', "'" or '"'."""
    for start, end, state in _unquoted_spans(text):
        if start <= position <= end:
            return state
    return ""


def leak_kind(line: str, secret: str) -> str | None:
    """How a printing command (echo, printf, cat <<, Write-Host …) exposes ``secret``:
    'print' to the job log, 'summary' to the step summary, 'file' to a file; None when it
    is piped into another program, masked, or written to GITHUB_ENV/OUTPUT/PATH. Other
    commands that merely use a secret (curl -H "…$TOKEN") are not leaks."""
    stripped = line.strip()
    if not _PRINT_COMMAND.match(stripped):
        return None
    redirect = _REDIRECT.search(stripped)
    if redirect and stripped.find(secret) < redirect.start():
        target = redirect.group("target")
        if "GITHUB_STEP_SUMMARY" in target:
            return "summary"
        if _LOG_SAFE_TARGETS.search(target):
            return None
        return "file"
    if _PIPE_OR_MASK.search(stripped):
        return None
    return "print"


def leak_message(
    kind: str, label: str, shown: str, kept: str | None, left: str
) -> tuple[str, Severity | None]:
    """QG-CI-007's message and severity for a leak of ``kind`` (from ``leak_kind``).

    A file is as bad as the log when the job keeps its files (``kept`` says how, e.g.
    "uploads artifacts"; None when it does not), else low: ``left`` says where the file
    stays and what to do about it. None as severity: the rule's default.
    """
    if kind == "print":
        return f"{label}: prints {shown} to the job log", None
    if kind == "summary":
        return f"{label}: writes {shown} to the job summary, shown to every reader", None
    if kept is not None:
        return f"{label}: writes {shown} to a file, and this job {kept}", None
    return f"{label}: writes {shown} to a file {left}", Severity.LOW


# --- pip installs ------------------------------------------------------------------------------

# A command (one piece of a line split at &&, ||, ; and |) that runs pip to install: pip,
# pip3, pip3.11, python[3[.11]] -m pip, uv pip; after a subshell parenthesis, sudo and its
# options, or VAR=value prefixes, but never as an argument (`echo pip install x`). Decided
# on the command's first words, not by one pattern: bounded repeats of optional blanks
# cost seconds on a line of spaces.
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,100}=")
_PIP_WORD = re.compile(r"pip3?(?:\.\d{1,2})?")
_PYTHON_WORD = re.compile(r"python[\d.]{0,6}")
_MAX_PREFIXES = 10


def _runs_pip_install(command: str) -> bool:
    words = command.lstrip(" \t").removeprefix("(").split(None, 32)[:32]
    index = prefixes = 0
    while index < len(words) and prefixes < _MAX_PREFIXES:
        if _ASSIGNMENT.match(words[index]):
            index += 1
        elif words[index] == "sudo":
            index += 1
            while index < len(words) and words[index].startswith("-"):
                index += 1
        else:
            break
        prefixes += 1
    rest = words[index : index + 4]
    if len(rest) >= 2 and _PIP_WORD.fullmatch(rest[0]):
        return rest[1] == "install"
    if len(rest) >= 4 and _PYTHON_WORD.fullmatch(rest[0]):
        return rest[1:4] == ["-m", "pip", "install"]
    return rest[:3] == ["uv", "pip", "install"]


# A constraints file pins what the command installs.
_CONSTRAINED = re.compile(r"(?:^|\s)(?:-c|--constraint)(?:\s|=)")
# A GitHub expression (`${{ matrix.qiskit }}`) is decided elsewhere: kept as one word so
# the package it names, or its version, is not judged.
_GH_EXPRESSION = re.compile(r"\$\{\{[^}\n]{0,200}\}\}")
_COMMAND_SEPARATOR = re.compile(r"&&|\|\||;|\|")
_NAME_END = re.compile(r"[\[<>=!~;@ ]")
# Upgrading the installer itself is bootstrapping, not a dependency (as for Dockerfiles).
_BOOTSTRAP = frozenset({"pip", "setuptools", "wheel", "uv", "pip-tools"})
# A real install command is short; a longer one is read this far.
_MAX_COMMAND = 4000


def unpinned_installs(line: str) -> list[str]:
    """Packages that ``pip install`` commands on one script line name without an exact
    version. Requirements files (``-r``), local paths and ``-e .``, URLs, commands with a
    constraints file, values chosen by an expression or a shell variable, and pip's own
    bootstrap packages are not reported."""
    if "install" not in line:
        return []
    text = _GH_EXPRESSION.sub("${EXPR}", line)
    loose: list[str] = []
    for command in _COMMAND_SEPARATOR.split(text):
        if not _runs_pip_install(command) or _CONSTRAINED.search(command):
            continue
        install = command[:_MAX_COMMAND].rstrip().rstrip(")")  # `(cd x; pip install y)`
        for requirement in unpinned_requirements(install):
            name = _NAME_END.split(requirement, maxsplit=1)[0]
            if name.lower() not in _BOOTSTRAP and requirement not in loose:
                loose.append(requirement)
    return loose


def command_lines(lines: list[ScriptLine]) -> list[ScriptLine]:
    """Script lines with backslash continuations joined, each at its first line."""
    joined: list[ScriptLine] = []
    pending: ScriptLine | None = None
    for entry in lines:
        if pending is not None:
            entry = ScriptLine(pending.line, pending.text + " " + entry.text.strip())
        if entry.text.rstrip().endswith("\\"):
            pending = ScriptLine(entry.line, entry.text.rstrip()[:-1])
            continue
        pending = None
        joined.append(entry)
    if pending is not None:
        joined.append(pending)
    return joined


def install_message(label: str, loose: list[str], holds: str) -> tuple[str, str]:
    """QG-CI-013's message and evidence for ``loose`` packages; ``holds`` says what the job
    carries that a hijacked release would get ("" when nothing is known)."""
    shown = ", ".join(loose[:6]) + (" …" if len(loose) > 6 else "")
    message = (
        f"{label}: `pip install` of {shown} without an exact version: every run may install "
        f"different code, and a hijacked release runs with this job's token{holds}. Pin exact "
        "versions (qiskit==2.1.0) or install from a hashed lock file "
        "(pip install --require-hashes -r requirements.txt)"
    )
    return message, shown

"""Dockerfiles / Containerfiles: base-image pinning, baked-in credentials, unpinned installs,
root at runtime.

The reader follows Docker's own rules where they matter for findings: parser directives
(``# syntax=``, ``# escape=``) at the top, line continuations with the escape character
(comment and blank lines inside a continuation are dropped), heredocs (``RUN <<EOF``),
global ``ARG``s substituted into ``FROM`` (``${BASE:-python:3.12}`` too), and stage
names, which are not images when a later ``FROM`` uses them.

Rules (metadata in ``scanner/rules/iac.yaml``):

- QG-DKR-001 base image without a tag or on ``:latest`` (medium), or a tag with no
  ``@sha256`` digest (low);
- QG-DKR-002 a credential-looking ``ENV``/``ARG`` (``*TOKEN*``, ``*SECRET*``,
  ``*PASSWORD*``, ``*_KEY`` …) with a literal value: it stays in the image history;
- QG-DKR-003 ``pip``/``uv pip``/``conda`` installs of packages without an exact pin
  (``-r requirements.txt``, local paths and URLs are left to other checks; pip,
  setuptools and wheel bootstrapping is ignored; ``-c constraints`` counts as pinned);
- QG-DKR-004 the final stage has no ``USER`` or switches back to root;
- QG-DKR-005 remote code taken unchecked: ``curl … | sh`` (or wget, or into python) in
  ``RUN``, and ``ADD https://…`` without ``--checksum``.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field

from scanner.detectors.iac_common import (
    Issue,
    Located,
    image_pin_issue,
    literal_secret,
    parse_image,
    secret_name,
    to_finding,
)
from scanner.detectors.interface import Detector
from scanner.masking import mask, redact_url
from scanner.model import FileKind, Finding, Severity
from scanner.pip_args import unpinned_requirements
from scanner.source import SourceFile

# curl/wget output fed to a shell or interpreter: `curl -sSL https://x/install.sh | bash`.
_PIPE_TO_SHELL = re.compile(
    r"(?P<fetch>\b(?:curl|wget)\b)[^|;&\n]*\|\s*(?:sudo\s+)?"
    r"(?P<shell>(?:ba|z|da|k)?sh|python3?)\b"
)
_URL = re.compile(r"https?://[^\s'\"|;)]+")
_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_VARIABLE = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)
_INSTALLER = re.compile(
    r"(?:^|\s)(?:pip3?(?:\.\d+)?|python[\d.]*\s+-m\s+pip|uv\s+pip|conda|mamba|micromamba)"
    r"\s+install\b"
)
_PIP = re.compile(r"(?:^|\s)(?:pip3?(?:\.\d+)?|python[\d.]*\s+-m\s+pip|uv\s+pip)\s+install\b")
# pip's constraint file pins what it installs (for conda, -c is a channel).
_CONSTRAINED = re.compile(r"(?:^|\s)(?:-c|--constraint)(?:\s|=)")
_NAME_END = re.compile(r"[\[<>=!~;@ ]")
_BOOTSTRAP = frozenset({"pip", "setuptools", "wheel", "uv", "pip-tools"})
_ROOT_USERS = frozenset({"root", "0", "0:0", "root:root", "root:0", "0:root"})


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int
    end_line: int


@dataclass
class _Stage:
    index: int
    from_line: int
    image: str
    alias: str | None
    parent: _Stage | None = None  # the earlier stage this one builds on (FROM <alias>)
    users: list[tuple[str, int]] = field(default_factory=list)

    def last_user(self) -> tuple[str, int] | None:
        """The USER in effect at the end of this stage, inherited through FROM <stage>."""
        stage: _Stage | None = self
        while stage is not None:
            if stage.users:
                return stage.users[-1]
            stage = stage.parent
        return None

    def root_image(self) -> str:
        stage = self
        while stage.parent is not None:
            stage = stage.parent
        return stage.image


def parse_dockerfile(text: str) -> list[Instruction]:
    """Logical instructions with their first and last physical line."""
    lines = text.splitlines()
    escape = "\\"
    index = 0
    # parser directives: only at the very top, before any instruction, comment or blank line
    while index < len(lines):
        match = _DIRECTIVE.match(lines[index].strip())
        if not match:
            break
        if match.group(1).lower() == "escape" and match.group(2) in {"\\", "`"}:
            escape = match.group(2)
        index += 1
    result: list[Instruction] = []
    while index < len(lines):
        raw = lines[index]
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            index += 1
            continue
        start = index
        parts: list[str] = []
        current = raw
        while True:
            body = current.rstrip()
            if body.endswith(escape) and not body.endswith(escape * 2):
                parts.append(body[: -len(escape)])
                index += 1
                while index < len(lines) and (
                    not lines[index].strip() or lines[index].lstrip().startswith("#")
                ):
                    index += 1
                if index >= len(lines):
                    break
                current = lines[index]
                continue
            parts.append(body)
            break
        logical = " ".join(p.strip() for p in parts)
        keyword, _, args = logical.partition(" ")
        keyword = keyword.upper()
        end = index
        heredoc = _HEREDOC.search(args) if keyword in {"RUN", "COPY", "ADD"} else None
        if heredoc:
            marker, strip_tabs = heredoc.group(3), bool(heredoc.group(1))
            body_lines = []
            index += 1
            while index < len(lines):
                candidate = lines[index].lstrip("\t") if strip_tabs else lines[index]
                if candidate.strip() == marker:
                    break
                body_lines.append(candidate)
                index += 1
            args = args + "\n" + "\n".join(body_lines)
            end = min(index, len(lines) - 1)
        result.append(Instruction(keyword, args.strip(), start + 1, end + 1))
        index += 1
    return result


def _substitute(text: str, variables: dict[str, str | None]) -> str | None:
    """Expand ``$VAR`` / ``${VAR}`` / ``${VAR:-default}``; None when a value is unknown."""
    unknown = False

    def replace(match: re.Match[str]) -> str:
        nonlocal unknown
        name = match.group(1) or match.group(4)
        value = variables.get(name)
        operator, fallback = match.group(2), match.group(3)
        if operator == "-" and not value:
            return fallback or ""
        if operator == "+":
            return (fallback or "") if value else ""
        if value is None:
            unknown = True
            return ""
        return value

    result = _VARIABLE.sub(replace, text)
    return None if unknown else result


def _pairs(args: str, keyword: str) -> list[tuple[str, str | None]]:
    """``ENV``/``ARG`` name-value pairs (``ENV k v`` legacy form included)."""
    try:
        tokens = shlex.split(args, posix=True)
    except ValueError:
        tokens = args.split()
    if not tokens:
        return []
    if keyword == "ENV" and "=" not in tokens[0]:
        name, _, rest = args.partition(" ")
        value = rest.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        return [(name, value)]
    pairs: list[tuple[str, str | None]] = []
    for token in tokens:
        name, sign, value = token.partition("=")
        pairs.append((name, value if sign else None))
    return pairs


def _shell_text(args: str) -> str:
    """RUN in exec form (``["pip", "install", "x"]``) as a shell-like line."""
    stripped = args.strip()
    if stripped.startswith("["):
        try:
            parts = json.loads(stripped)
        except ValueError:
            return args
        if isinstance(parts, list):
            return " ".join(str(p) for p in parts)
    return args


class _Dockerfile:
    def __init__(self, source: SourceFile, instructions: list[Instruction]) -> None:
        self.source = source
        self.instructions = instructions

    def issues(self) -> Iterator[Issue]:
        global_args: dict[str, str | None] = {}
        stages: list[_Stage] = []
        for instruction in self.instructions:
            keyword = instruction.keyword
            if keyword == "FROM":
                stage = self._stage(instruction, global_args, stages)
                if stage is not None:
                    yield from self._base_image(stage, instruction, global_args)
                    stages.append(stage)
            elif keyword in {"ENV", "ARG"}:
                for name, value in _pairs(instruction.args, keyword):
                    if keyword == "ARG" and not stages:
                        global_args[name] = value
                    yield from self._credential(instruction, keyword, name, value)
            elif keyword == "RUN":
                yield from self._installs(instruction)
                yield from self._piped_download(instruction)
            elif keyword == "ADD":
                yield from self._remote_add(instruction)
            elif keyword == "USER" and stages:
                stages[-1].users.append((instruction.args.split()[0] if instruction.args else "",
                                         instruction.line))
        if stages:
            yield from self._user(stages[-1])

    def _stage(
        self, instruction: Instruction, global_args: dict[str, str | None], stages: list[_Stage]
    ) -> _Stage | None:
        tokens = [t for t in instruction.args.split() if not t.startswith("--")]
        if not tokens:
            return None
        alias = tokens[2] if len(tokens) >= 3 and tokens[1].lower() == "as" else None
        image = tokens[0]
        resolved = _substitute(image, global_args) if "$" in image else image
        parent = next(
            (s for s in reversed(stages)
             if s.alias and resolved and s.alias.lower() == resolved.lower()),
            None,
        )
        return _Stage(len(stages), instruction.line, image, alias, parent)

    def _base_image(
        self, stage: _Stage, instruction: Instruction, global_args: dict[str, str | None]
    ) -> Iterator[Issue]:
        written = stage.image
        image = _substitute(written, global_args) if "$" in written else written
        if not image:
            return  # set by a build argument without a default: unknown here
        if image.lower() == "scratch" or stage.parent is not None:
            return  # no image, or an earlier stage of this file
        ref = parse_image(image)
        problem = image_pin_issue(ref)
        if problem is None:
            return
        severity, text = problem
        via = f" (from {written})" if written != image else ""
        yield Issue(
            "QG-DKR-001", Located("", instruction.line),
            f"FROM {ref.display}{via} {text}",
            f"from:{stage.index}:{ref.name}:{ref.tag}",
            None if severity is Severity.MEDIUM else severity,
            evidence=ref.display[:120],
        )

    def _credential(
        self, instruction: Instruction, keyword: str, name: str, value: str | None
    ) -> Iterator[Issue]:
        if value is None or not secret_name(name) or not literal_secret(value):
            return
        if "$" in value:
            return  # a reference to another variable or build argument
        masked = mask(value)
        kind = "a build argument default" if keyword == "ARG" else "an environment variable"
        yield Issue(
            "QG-DKR-002", Located("", self._line_with(instruction, name)),
            f"{keyword} {name}: a credential is baked into the image as {kind}; it stays in "
            "the image history. Pass it at run time or with a BuildKit secret mount "
            "(RUN --mount=type=secret)",
            f"{keyword}:{name}:{masked}",
            evidence=f"{name}={masked}",
        )

    def _installs(self, instruction: Instruction) -> Iterator[Issue]:
        text = _shell_text(instruction.args)
        loose: list[str] = []
        names: list[str] = []
        for command in re.split(r"&&|\|\||;|\||\n", text):
            if not _INSTALLER.search(command):
                continue
            if _PIP.search(command) and _CONSTRAINED.search(command):
                continue
            for requirement in unpinned_requirements(command):
                name = _NAME_END.split(requirement, maxsplit=1)[0]
                if name.lower() not in _BOOTSTRAP and requirement not in loose:
                    loose.append(requirement)
                    names.append(name)
        if loose:
            shown = ", ".join(loose[:5]) + (" …" if len(loose) > 5 else "")
            yield Issue(
                "QG-DKR-003", Located("", self._line_with(instruction, names[0])),
                f"RUN installs {shown} without an exact version: each build may get different "
                "code",
                "pip:" + ",".join(sorted(loose)),
                evidence=shown[:160],
            )

    def _piped_download(self, instruction: Instruction) -> Iterator[Issue]:
        text = _shell_text(instruction.args)
        match = _PIPE_TO_SHELL.search(text)
        if match is None:
            return
        url = _URL.search(match.group(0))
        shown = redact_url(url.group(0)) if url else match.group("fetch")
        yield Issue(
            "QG-DKR-005", Located("", self._line_with(instruction, match.group("fetch"))),
            f"RUN pipes a download ({shown}) straight into {match.group('shell')}: whatever "
            "the server returns at build time runs in the image, unchecked",
            f"pipe:{redact_url(match.group(0))}",
            evidence=shown[:160],
        )

    def _remote_add(self, instruction: Instruction) -> Iterator[Issue]:
        flags = instruction.args.split()
        if any(f.startswith("--checksum=") for f in flags):
            return
        for token in flags:
            if token.lower().startswith(("http://", "https://")):
                shown = redact_url(token)
                yield Issue(
                    "QG-DKR-005", Located("", instruction.line),
                    f"ADD fetches {shown} with no --checksum: the build takes whatever the "
                    "server returns",
                    f"add:{shown}",
                    evidence=shown[:160],
                )

    def _user(self, stage: _Stage) -> Iterator[Issue]:
        last = stage.last_user()
        if last is None:
            if "nonroot" in stage.root_image().lower():
                return  # e.g. gcr.io/distroless/python3:nonroot
            yield Issue(
                "QG-DKR-004", Located("", stage.from_line),
                f"Final stage (FROM {parse_image(stage.image).display}) sets no USER: the "
                "container runs as root unless the base image changes it",
                "user:missing",
            )
            return
        user, line = last
        if user.lower() in _ROOT_USERS:
            yield Issue(
                "QG-DKR-004", Located("", line),
                f"Final stage switches to USER {user} last: the container runs as root",
                "user:root",
            )

    def _line_with(self, instruction: Instruction, needle: str) -> int:
        lines = self.source.lines
        for number in range(instruction.line, min(instruction.end_line, len(lines)) + 1):
            if needle and needle in lines[number - 1]:
                return number
        return instruction.line


class DockerfileDetector(Detector):
    name = "dockerfile"
    kinds = frozenset({FileKind.DOCKERFILE})

    def scan(self, source: SourceFile) -> Iterator[Finding]:
        instructions = parse_dockerfile(source.text)
        for issue in _Dockerfile(source, instructions).issues():
            yield to_finding(source.path, issue)

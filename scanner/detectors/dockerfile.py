"""Dockerfiles / Containerfiles: base-image pinning, baked-in credentials, unpinned installs,
root at runtime.

The reader follows Docker's own rules where they matter for findings: parser directives
(``# syntax=``, ``# escape=``) at the top, line continuations with the escape character
(comment and blank lines inside a continuation are dropped), heredocs (``RUN <<EOF``),
global ``ARG``s substituted into ``FROM`` (``${BASE:-python:3.12}`` too), and stage
names, which are not images when a later ``FROM`` uses them.

Checks: base-image pins, credentials baked into ``ENV``/``ARG``, unpinned ``pip``/``uv``/
``conda`` installs (``-c constraints`` count as pins; pip/setuptools/wheel bootstrapping is
ignored), a final stage running as root, and remote code taken unchecked (``curl … | sh``,
``ADD https://…`` without ``--checksum``). Rule ids and metadata: ``scanner/rules/iac.yaml``
(QG-DKR).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from scanner.detectors.iac_common import (
    Located,
    iac_issue,
    image_pin_issue,
    literal_secret,
)
from scanner.detectors.interface import Detector
from scanner.detectors.secret_names import secret_name
from scanner.formats.dockerfile import Instruction, env_pairs, shell_text, substitute
from scanner.formats.image_ref import parse_image
from scanner.formats.pip_args import unpinned_requirements
from scanner.masking import mask, redact_url
from scanner.model import FileKind, Issue, Severity
from scanner.source import SourceFile

# curl/wget output fed to a shell or interpreter: `curl -sSL https://x/install.sh | bash`.
# ``| sh`` and the download it consumes are found in two linear steps (a pipe to a shell,
# then curl/wget earlier in the same command), never by one pattern that backtracks over a
# long line of `curl curl curl …`.
_PIPE_TO_SHELL = re.compile(r"\|[ \t]*(?:sudo[ \t]+)?(?P<shell>(?:ba|z|da|k)?sh|python3?)\b")
_FETCH = re.compile(r"\b(?:curl|wget)\b")
_COMMAND_BREAKS = ";&\n|"
_URL = re.compile(r"https?://[^\s'\"|;)]+")
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
                for name, value in env_pairs(instruction.args, keyword):
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
        resolved = substitute(image, global_args) if "$" in image else image
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
        image = substitute(written, global_args) if "$" in written else written
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
        yield iac_issue(
            "QG-DKR-001", Located("", instruction.line),
            f"FROM {ref.display}{via} {text}",
            f"from:{stage.index}:{ref.name}:{ref.tag}",
            None if severity is Severity.MEDIUM else severity,
            evidence=ref.display[:120],
        )

    def _credential(
        self, instruction: Instruction, keyword: str, name: str, value: str | None
    ) -> Iterator[Issue]:
        if value is None or not secret_name(name, key_word=True) or not literal_secret(value):
            return
        if "$" in value:
            return  # a reference to another variable or build argument
        masked = mask(value)
        kind = "a build argument default" if keyword == "ARG" else "an environment variable"
        yield iac_issue(
            "QG-DKR-002", Located("", self._line_with(instruction, name)),
            f"{keyword} {name}: a credential is baked into the image as {kind}; it stays in "
            "the image history. Pass it at run time or with a BuildKit secret mount "
            "(RUN --mount=type=secret)",
            f"{keyword}:{name}:{masked}",
            evidence=f"{name}={masked}",
        )

    def _installs(self, instruction: Instruction) -> Iterator[Issue]:
        text = shell_text(instruction.args)
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
            yield iac_issue(
                "QG-DKR-003", Located("", self._line_with(instruction, names[0])),
                f"RUN installs {shown} without an exact version: each build may get different "
                "code",
                "pip:" + ",".join(sorted(loose)),
                evidence=shown[:160],
            )

    def _piped_download(self, instruction: Instruction) -> Iterator[Issue]:
        text = shell_text(instruction.args)
        found = _piped_fetch(text)
        if found is None:
            return
        fetch, command, shell = found
        url = _URL.search(command)
        shown = redact_url(url.group(0)) if url else fetch
        yield iac_issue(
            "QG-DKR-005", Located("", self._line_with(instruction, fetch)),
            f"RUN pipes a download ({shown}) straight into {shell}: whatever "
            "the server returns at build time runs in the image, unchecked",
            f"pipe:{redact_url(command)}",
            evidence=shown[:160],
        )

    def _remote_add(self, instruction: Instruction) -> Iterator[Issue]:
        flags = instruction.args.split()
        if any(f.startswith("--checksum=") for f in flags):
            return
        for token in flags:
            if token.lower().startswith(("http://", "https://")):
                shown = redact_url(token)
                yield iac_issue(
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
            yield iac_issue(
                "QG-DKR-004", Located("", stage.from_line),
                f"Final stage (FROM {parse_image(stage.image).display}) sets no USER: the "
                "container runs as root unless the base image changes it",
                "user:missing",
            )
            return
        user, line = last
        if user.lower() in _ROOT_USERS:
            yield iac_issue(
                "QG-DKR-004", Located("", line),
                f"Final stage switches to USER {user} last: the container runs as root",
                "user:root",
            )

    def _line_with(self, instruction: Instruction, needle: str) -> int:
        found = self.source.find_line(needle, instruction.line, instruction.end_line)
        return found if found is not None else instruction.line


def _piped_fetch(text: str) -> tuple[str, str, str] | None:
    """``(fetch word, command text, shell)`` for the first ``curl …| sh`` in ``text``."""
    for pipe in _PIPE_TO_SHELL.finditer(text):
        begin = max(text.rfind(mark, 0, pipe.start()) for mark in _COMMAND_BREAKS) + 1
        fetch = _FETCH.search(text, begin, pipe.start())
        if fetch is not None:
            return fetch.group(0), text[fetch.start() : pipe.end()], pipe.group("shell")
    return None


class DockerfileDetector(Detector):
    name = "dockerfile"
    kinds = frozenset({FileKind.DOCKERFILE})

    rules = frozenset({"QG-DKR-001", "QG-DKR-002", "QG-DKR-003", "QG-DKR-004", "QG-DKR-005"})

    def scan(self, source: SourceFile) -> Iterator[Issue]:
        yield from _Dockerfile(source, source.dockerfile).issues()

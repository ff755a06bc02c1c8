"""Dockerfiles and Containerfiles as logical instructions, read by Docker's own rules.

Parser directives (``# syntax=``, ``# escape=``) at the top, line continuations with the
escape character (comment and blank lines inside a continuation are dropped), heredocs
(``RUN <<EOF``); ``substitute`` expands ``$VAR``/``${VAR:-default}`` the way ``FROM`` and
``ARG`` do. Nothing is built or run.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_VARIABLE = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int
    end_line: int


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


def substitute(text: str, variables: dict[str, str | None]) -> str | None:
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


def env_pairs(args: str, keyword: str) -> list[tuple[str, str | None]]:
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


def shell_text(args: str) -> str:
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

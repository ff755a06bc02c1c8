"""Dockerfiles read as logical instructions, by Docker's own rules; image references."""

from __future__ import annotations

import pytest

from scanner.formats.dockerfile import env_pairs, parse_dockerfile, shell_text, substitute
from scanner.formats.image_ref import ImageRef, parse_image


def test_escape_directive() -> None:
    instructions = parse_dockerfile("# escape=`\nFROM mcr.microsoft.com/windows `\n  AS base\n")
    assert [(i.keyword, i.args, i.line, i.end_line) for i in instructions] == [
        ("FROM", "mcr.microsoft.com/windows AS base", 2, 3)
    ]


def test_continuations_drop_comment_lines_and_keep_first_and_last_line() -> None:
    text = (
        "FROM python:3.12\n"
        "# a comment\n"
        "RUN apt-get update \\\n"
        "    # inside the continuation\n"
        "    && pip install qiskit\n"
        "user 10001\n"
    )
    assert [(i.keyword, i.args, i.line, i.end_line) for i in parse_dockerfile(text)] == [
        ("FROM", "python:3.12", 1, 1),
        ("RUN", "apt-get update && pip install qiskit", 3, 5),
        ("USER", "10001", 6, 6),
    ]


def test_heredoc_body_belongs_to_its_instruction() -> None:
    text = "FROM x\nRUN <<EOF\nset -e\npip install pennylane\nEOF\nUSER 1\n"
    run = parse_dockerfile(text)[1]
    assert (run.keyword, run.line, run.end_line) == ("RUN", 2, 5)
    assert run.args.splitlines() == ["<<EOF", "set -e", "pip install pennylane"]


@pytest.mark.parametrize(
    ("text", "variables", "expected"),
    [
        ("${BASE}", {"BASE": "python:3.12"}, "python:3.12"),
        ("$BASE-slim", {"BASE": "python"}, "python-slim"),
        ("${REGISTRY:-docker.io}/python", {}, "docker.io/python"),
        ("${TAG:+-dev}", {"TAG": "1"}, "-dev"),
        ("${UNKNOWN}", {}, None),
        ("${UNSET}", {"UNSET": None}, None),
    ],
)
def test_substitute(text: str, variables: dict[str, str | None], expected: str | None) -> None:
    assert substitute(text, variables) == expected


@pytest.mark.parametrize(
    ("args", "keyword", "pairs"),
    [
        ("A=1 B=two", "ENV", [("A", "1"), ("B", "two")]),
        ('TOKEN "a b"', "ENV", [("TOKEN", "a b")]),
        ("NAME", "ARG", [("NAME", None)]),
        ('A=1 C="x y"', "ARG", [("A", "1"), ("C", "x y")]),
    ],
)
def test_env_pairs(args: str, keyword: str, pairs: list[tuple[str, str | None]]) -> None:
    assert env_pairs(args, keyword) == pairs


def test_exec_form_reads_as_a_shell_line() -> None:
    assert shell_text('["pip", "install", "qiskit"]') == "pip install qiskit"
    assert shell_text("pip install qiskit") == "pip install qiskit"


@pytest.mark.parametrize(
    ("reference", "image"),
    [
        ("python", ImageRef("python", None, None)),
        ("python:3.12-slim", ImageRef("python", "3.12-slim", None)),
        ("localhost:5000/team/img", ImageRef("localhost:5000/team/img", None, None)),
        ("ghcr.io/x/y:1.0@sha256:" + "a" * 64, ImageRef("ghcr.io/x/y", "1.0", "sha256:" + "a" * 64)),
    ],
)
def test_image_references(reference: str, image: ImageRef) -> None:
    assert parse_image(reference) == image

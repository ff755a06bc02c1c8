"""Dockerfile detector (QG-DKR-*): base images after ARG substitution, stages, ENV/ARG, RUN."""

from __future__ import annotations

import textwrap

import pytest

from scanner.classify import classify
from scanner.detectors.dockerfile import DockerfileDetector
from scanner.model import FileKind, Finding, Severity
from tests.helpers import Detection, Located, default_severity, detect, located, rule_ids, source

DIGEST = "sha256:" + "b" * 64
FAKE = "not-a-real-token-for-tests"


def run(text: str, path: str = "Dockerfile") -> Detection:
    dockerfile = source(textwrap.dedent(text), path)
    assert dockerfile.kind is FileKind.DOCKERFILE
    detection = detect(DockerfileDetector(), dockerfile)
    assert detection.errors == []
    return detection


def scan(text: str, path: str = "Dockerfile") -> list[Finding]:
    return run(text, path).findings


def image(body: str, base: str = f"python:3.12-slim@{DIGEST}", user: str = "10001") -> str:
    return f"FROM {base}\n{body}\nUSER {user}\n"


@pytest.mark.parametrize("path", ["Dockerfile", "Containerfile", "docker/Dockerfile.gpu",
                                  "images/runner.dockerfile"])
def test_dockerfile_names_are_classified(path: str) -> None:
    assert classify(path, "FROM x\n") is FileKind.DOCKERFILE


def test_clean_image() -> None:
    assert scan(image("RUN pip install --require-hashes -r requirements.txt")) == []


# image() puts FROM on line 1, the body on line 2 and USER on line 3.
@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        ("QG-DKR-001", image("", base="python"), [("QG-DKR-001", 1)]),
        ("QG-DKR-001", image("", base="python:latest"), [("QG-DKR-001", 1)]),
        ("QG-DKR-001", image("", base="python:3.12-slim"), [("QG-DKR-001", 1)]),
        ("QG-DKR-001", image("", base="--platform=linux/amd64 python:3.12-slim"), [("QG-DKR-001", 1)]),
        ("QG-DKR-001", image("", base=f"python:3.12-slim@{DIGEST}"), []),
        ("QG-DKR-001", image("", base="scratch"), []),
        ("QG-DKR-002", image(f"ENV QISKIT_IBM_TOKEN={FAKE}"), [("QG-DKR-002", 2)]),
        ("QG-DKR-002", image(f"ENV IONQ_API_KEY {FAKE}"), [("QG-DKR-002", 2)]),
        ("QG-DKR-002", image(f"ARG AWS_SECRET_ACCESS_KEY={FAKE}"), [("QG-DKR-002", 2)]),
        ("QG-DKR-002", image(f'ENV A=1 DB_PASSWORD="{FAKE}"'), [("QG-DKR-002", 2)]),
        ("QG-DKR-002", image("ARG QISKIT_IBM_TOKEN"), []),
        ("QG-DKR-002", image("ENV QISKIT_IBM_TOKEN=$QISKIT_IBM_TOKEN"), []),
        ("QG-DKR-002", image("ENV TOKEN_FILE=/run/secrets/token PUBLIC_KEY_PATH=/k.pub"), []),
        ("QG-DKR-002", image("ENV QISKIT_IBM_CHANNEL=ibm_quantum_platform"), []),
        ("QG-DKR-003", image("RUN pip install qiskit"), [("QG-DKR-003", 2)]),
        ("QG-DKR-003", image("RUN pip install 'qiskit>=1.0' numpy==2.1.0"), [("QG-DKR-003", 2)]),
        ("QG-DKR-003", image('RUN ["pip", "install", "amazon-braket-sdk"]'), [("QG-DKR-003", 2)]),
        ("QG-DKR-003", image("RUN python -m pip install --no-cache-dir qiskit-aer~=0.15"), [("QG-DKR-003", 2)]),
        ("QG-DKR-003", image("RUN conda install -c conda-forge -y pennylane"), [("QG-DKR-003", 2)]),
        ("QG-DKR-003", image("RUN conda install -c conda-forge -y pennylane=0.38.0"), []),
        ("QG-DKR-003", image("RUN pip install qiskit==1.2.4 qiskit-aer==0.15.1"), []),
        ("QG-DKR-003", image("RUN pip install -c constraints.txt qiskit"), []),
        ("QG-DKR-003", image("RUN pip install --upgrade pip setuptools wheel"), []),
        ("QG-DKR-003", image("RUN pip install -r requirements.txt ."), []),
        ("QG-DKR-003", image("RUN apt-get install -y curl"), []),
        # no USER at all: the final FROM
        ("QG-DKR-004", f"FROM python:3.12-slim@{DIGEST}\nRUN true\n", [("QG-DKR-004", 1)]),
        ("QG-DKR-004", image("", user="root"), [("QG-DKR-004", 3)]),
        ("QG-DKR-004", image("", user="0:0"), [("QG-DKR-004", 3)]),
        ("QG-DKR-004", image(""), []),
        ("QG-DKR-004", f"FROM gcr.io/distroless/python3:nonroot@{DIGEST}\n", []),
    ],
)
def test_rules(rule: str, text: str, expected: list[Located]) -> None:
    assert located(scan(text)) == expected, rule


def test_multi_stage_build_with_build_arguments() -> None:
    detection = run(f"""\
        # syntax=docker/dockerfile:1.7
        ARG BASE=python:3.12-slim@{DIGEST}
        ARG TOOLS=ghcr.io/astral-sh/uv:latest
        ARG UNKNOWN

        FROM ${{TOOLS}} AS uv
        FROM ${{BASE}} AS build
        COPY --from=uv /uv /bin/uv
        RUN uv pip install --system qiskit

        FROM ${{UNKNOWN}} AS mystery
        FROM ${{REGISTRY:-docker.io}}/library/python:3.12 AS fallback

        FROM build AS final
        USER 10001
        """)
    found = detection.findings
    assert sorted((f.rule_id, f.line) for f in found) == [
        ("QG-DKR-001", 6),  # uv:latest through ARG TOOLS
        ("QG-DKR-001", 12),  # default of an unset ARG, tag without digest
        ("QG-DKR-003", 9),  # uv pip install without a pin
    ]
    first = next(f for f in found if f.line == 6)
    assert "from ${TOOLS}" in first.message and "ghcr.io/astral-sh/uv:latest" in first.message
    low = next(f for f in found if f.line == 12)
    assert low.severity is Severity.LOW
    # medium: the rule's default
    assert next(i for i in detection.issues if i.line == 6).severity is None
    assert first.severity is default_severity("QG-DKR-001") is Severity.MEDIUM


def test_user_is_inherited_from_the_stage_the_final_stage_builds_on() -> None:
    base = f"FROM python:3.12-slim@{DIGEST} AS base\nUSER 10001\n"
    assert "QG-DKR-004" not in rule_ids(scan(base + "FROM base\nCOPY . /app\n"))
    assert "QG-DKR-004" in rule_ids(scan(base + "FROM base\nUSER root\n"))
    # a later stage built on an image (not a stage) starts as root again
    assert "QG-DKR-004" in rule_ids(scan(base + f"FROM python:3.12-slim@{DIGEST}\n"))


def test_lines_follow_continuations_and_comments() -> None:
    found = scan(f"""\
        FROM python:3.12-slim@{DIGEST}
        # credentials for the nightly benchmark
        ENV QISKIT_IBM_CHANNEL=ibm_quantum_platform \\
            QISKIT_IBM_TOKEN={FAKE}
        RUN apt-get update \\
            # comment lines inside a continuation are dropped
            && pip install --no-cache-dir \\
               numpy==2.1.0 \\
               qiskit-ibm-runtime
        USER 10001
        """)
    assert sorted((f.rule_id, f.line) for f in found) == [
        ("QG-DKR-002", 4),
        ("QG-DKR-003", 9),
    ]
    secret = next(f for f in found if f.rule_id == "QG-DKR-002")
    assert FAKE not in (secret.evidence or "") + secret.message
    assert secret.evidence and secret.evidence.startswith("QISKIT_IBM_TOKEN=")


def test_heredoc_run_is_read() -> None:
    found = scan(f"""\
        FROM python:3.12-slim@{DIGEST}
        RUN <<EOF
        set -e
        pip install pennylane
        EOF
        USER 10001
        """)
    assert [(f.rule_id, f.line) for f in found] == [("QG-DKR-003", 4)]


def test_empty_or_comment_only_dockerfile_has_no_findings() -> None:
    assert scan("# nothing yet\n") == []


# --- QG-DKR-005: remote code without verification ---------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("RUN curl -sSL https://install.example.com/tool.sh | bash", [("QG-DKR-005", 2)]),
        ("RUN wget -qO- https://install.example.com/tool.sh | sh -s -- --yes", [("QG-DKR-005", 2)]),
        ("RUN curl -fsSL https://bootstrap.example.com/get.py | python3 -", [("QG-DKR-005", 2)]),
        ("RUN apt-get update && curl -sSL https://x.example.com/i.sh | sudo bash", [("QG-DKR-005", 2)]),
        ('RUN ["sh", "-c", "curl -s https://x.example.com/i.sh | sh"]', [("QG-DKR-005", 2)]),
        ("RUN curl -sSLo /tmp/i.sh https://x.example.com/i.sh \\\n"
         "    && echo \"abc123  /tmp/i.sh\" | sha256sum -c - && sh /tmp/i.sh", []),
        ("RUN curl -s https://api.example.com/status | jq .", []),
        ("ADD https://example.com/tool.tar.gz /opt/", [("QG-DKR-005", 2)]),
        (f"ADD --checksum={DIGEST} https://example.com/tool.tar.gz /opt/", []),
        ("ADD vendor/tool.tar.gz /opt/", []),
    ],
)
def test_remote_code_without_verification(body: str, expected: list[Located]) -> None:
    assert located(scan(image(body))) == expected


def test_piped_download_line_and_redacted_url() -> None:
    found = [f for f in scan(image(
        "RUN apt-get update \\\n"
        "    && curl -sSL https://ci:tok3n-value@get.example.com/i.sh | bash"
    )) if f.rule_id == "QG-DKR-005"]
    assert [f.line for f in found] == [3]
    assert "tok3n-value" not in found[0].message + (found[0].evidence or "")

"""CI/CD detector: GitHub Actions workflows and GitLab CI files."""

from __future__ import annotations

import time

import pytest

from scanner.catalog import Catalog
from scanner.classify import classify
from scanner.detectors.cicd import CicdDetector
from scanner.detectors.cicd.shell import unpinned_installs
from scanner.model import FileKind, Finding, Severity
from scanner.source import SourceFile
from tests.helpers import (
    DATA,
    Detection,
    Located,
    default_severity,
    detect,
    findings,
    located,
    parse_error,
    source,
)

FIXTURES = DATA / "cicd"
WORKFLOW = ".github/workflows/ci.yml"
SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"


def ci_file(path: str, text: str) -> SourceFile:
    pipeline = source(text, path)
    assert pipeline.kind in {FileKind.GITHUB_WORKFLOW, FileKind.GITHUB_ACTION, FileKind.GITLAB_CI}
    return pipeline


def scan(path: str, text: str) -> list[Finding]:
    return findings(CicdDetector(), ci_file(path, text))


def run(path: str, text: str) -> Detection:
    return detect(CicdDetector(), ci_file(path, text))


def fixture(project: str, rel: str) -> SourceFile:
    return ci_file(rel, (FIXTURES / project / rel).read_text(encoding="utf-8"))


def scan_fixture(project: str, rel: str) -> list[Finding]:
    return findings(CicdDetector(), fixture(project, rel))


def test_leaky_github_workflow() -> None:
    detection = detect(CicdDetector(), fixture("leaky", ".github/workflows/bench.yml"))
    found = detection.findings
    assert located(found) == [
        ("QG-CI-001", 15),  # pull_request_target + checkout of the PR head
        ("QG-CI-002", 11),  # write-all
        ("QG-CI-003", 8),  # job 'comment' has no permissions, none at the top
        ("QG-CI-004", 16),  # aws-actions/...@v4
        ("QG-CI-004", 27),  # some-org/quantum-report@main
        ("QG-CI-004", 34),  # azure/login@v2
        ("QG-CI-005", 13),  # actions/checkout@v4
        ("QG-CI-005", 28),  # actions/upload-artifact@v4
        ("QG-CI-006", 23),  # PR title in run
        ("QG-CI-006", 38),  # comment body in run
        ("QG-CI-007", 24),  # echo secret
        ("QG-CI-007", 25),  # secret to a file in a job that uploads artifacts
        ("QG-CI-007", 30),  # ~/.qiskit/qiskit-ibm.json uploaded
        ("QG-CI-008", 19),  # stored AWS keys
        ("QG-CI-008", 36),  # azure/login creds
        ("QG-CI-009", 7),  # token from secrets (workflow env reaches both jobs)
        ("QG-CI-009", 7),
        ("QG-CI-010", 7),  # ... in a pull_request_target workflow
        ("QG-CI-010", 7),
    ]
    assert "write-all" in next(f for f in found if f.rule_id == "QG-CI-002").message
    assert "comment" in next(f for f in found if f.rule_id == "QG-CI-003").message
    # lowered severities are explicit; the rest take the rule default when findings are built
    assert {(i.rule_id, i.severity) for i in detection.issues if i.severity is not None} == set()
    assert all(f.severity is default_severity(f.rule_id) for f in found)


def test_leaky_gitlab_pipeline() -> None:
    found = scan_fixture("leaky", ".gitlab-ci.yml")
    assert located(found) == [
        ("QG-CI-004", 2),  # remote include
        ("QG-CI-004", 3),  # project include at a branch
        ("QG-CI-004", 6),  # component at a tag
        ("QG-CI-006", 18),  # eval of the MR title
        ("QG-CI-007", 23),  # echo $QISKIT_IBM_TOKEN
        ("QG-CI-007", 25),  # secret to a file kept as artifact
        ("QG-CI-007", 26),  # printenv
        ("QG-CI-008", 25),  # AWS secret key, no id_tokens
        ("QG-CI-009", 23),
        ("QG-CI-011", 16),  # unquoted branch name
    ]


@pytest.mark.parametrize("rel", [".github/workflows/bench.yml", ".gitlab-ci.yml"])
def test_governed_pipelines_are_clean_above_info(rel: str) -> None:
    found = scan_fixture("governed", rel)
    assert [f.rule_id for f in found] == ["QG-CI-009"]  # the vendor has no OIDC: info only


def _wf(body: str, on: str = "push", permissions: str = "permissions: {contents: read}\n") -> str:
    return f"on: {on}\n{permissions}jobs:\n  j:\n    runs-on: ubuntu-latest\n{body}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # pinning
        (_wf(f"    steps:\n      - uses: actions/checkout@{SHA}\n"), []),
        (_wf("    steps:\n      - uses: actions/checkout@v4\n"), ["QG-CI-005"]),
        (_wf("    steps:\n      - uses: github/codeql-action/init@v3\n"), ["QG-CI-005"]),
        (_wf("    steps:\n      - uses: docker/login-action@v3\n"), ["QG-CI-004"]),
        (_wf(f"    steps:\n      - uses: docker/login-action@{SHA[:12]}\n"), ["QG-CI-004"]),
        (_wf(f"    steps:\n      - uses: docker/login-action@{SHA}\n"), []),
        (_wf("    steps:\n      - uses: ./.github/actions/local\n"), []),
        (_wf("    steps:\n      - uses: docker://alpine:3.20\n"), ["QG-CI-004"]),
        (_wf("    steps:\n      - uses: docker://alpine@sha256:" + "a" * 64 + "\n"), []),
        ("on: push\npermissions: read-all\njobs:\n  call:\n    uses: org/wf/.github/workflows/x.yml@main\n",
         ["QG-CI-004"]),
        # permissions
        ("on: push\njobs:\n  j:\n    runs-on: x\n    steps: [{run: make}]\n", ["QG-CI-003"]),
        ("on: push\njobs:\n  j:\n    runs-on: x\n    permissions: {contents: read}\n", []),
        ("on: push\npermissions: write-all\njobs:\n  j: {runs-on: x}\n", ["QG-CI-002"]),
        ("on: push\npermissions: {}\njobs:\n  j: {runs-on: x}\n", []),
        # script injection
        (_wf("    steps:\n      - run: echo ${{ github.event.issue.title }}\n", on="issues"),
         ["QG-CI-006"]),
        (_wf("    steps:\n      - run: |\n          git checkout ${{ github.head_ref }}\n",
             on="pull_request"), ["QG-CI-006"]),
        (_wf("    steps:\n      - run: echo ${{ github.event.commits[0].message }}\n"),
         ["QG-CI-006"]),
        (_wf("    steps:\n      - run: echo ${{ github.event.workflow_run.head_branch }}\n",
             on="workflow_run"), ["QG-CI-006"]),
        (_wf("    steps:\n      - run: echo ${{ github.event.pull_request.number }}\n",
             on="pull_request"), []),
        (_wf("    steps:\n      - run: echo ${{ github.sha }} ${{ inputs.name }}\n"), []),
        (_wf("    steps:\n      - env:\n          T: ${{ github.event.issue.title }}\n"
             '        run: echo "$T"\n', on="issues"), []),
        (_wf(f"    steps:\n      - uses: actions/github-script@{SHA}\n        with:\n"
             "          script: console.log('${{ github.event.comment.body }}')\n",
             on="issue_comment"), ["QG-CI-006"]),
        # untrusted checkout in privileged workflows
        (_wf(f"    steps:\n      - uses: actions/checkout@{SHA}\n        with:\n"
             "          ref: ${{ github.event.pull_request.head.ref }}\n",
             on="pull_request_target"), ["QG-CI-001"]),
        (_wf(f"    steps:\n      - uses: actions/checkout@{SHA}\n        with:\n"
             "          ref: refs/pull/${{ github.event.issue.number }}/head\n",
             on="issue_comment"), ["QG-CI-001"]),
        (_wf(f"    steps:\n      - uses: actions/checkout@{SHA}\n        with:\n"
             "          ref: ${{ github.event.workflow_run.head_sha }}\n",
             on="workflow_run"), ["QG-CI-001"]),
        (_wf(f"    steps:\n      - uses: actions/checkout@{SHA}\n",
             on="pull_request_target"), []),
        (_wf(f"    steps:\n      - uses: actions/checkout@{SHA}\n        with:\n"
             "          ref: ${{ github.event.pull_request.head.sha }}\n",
             on="pull_request"), []),
        (_wf("    steps:\n      - run: gh pr checkout ${{ github.event.number }}\n",
             on="[pull_request_target]"), ["QG-CI-001"]),
        # secrets in logs and files
        (_wf("    steps:\n      - run: echo ${{ secrets.API_TOKEN }}\n"), ["QG-CI-007"]),
        (_wf("    steps:\n      - run: echo ${{ secrets.API_TOKEN }} | docker login --password-stdin\n"),
         []),
        (_wf("    env:\n      TOKEN: ${{ secrets.API_TOKEN }}\n    steps:\n"
             '      - run: printf "%s" "$TOKEN"\n'), ["QG-CI-007"]),
        (_wf("    env:\n      TOKEN: ${{ secrets.API_TOKEN }}\n    steps:\n"
             '      - run: echo "::add-mask::$TOKEN"\n'), []),
        (_wf("    env:\n      TOKEN: ${{ secrets.API_TOKEN }}\n    steps:\n"
             '      - run: echo "$TOKEN" >> "$GITHUB_STEP_SUMMARY"\n'), ["QG-CI-007"]),
        (_wf("    env:\n      TOKEN: ${{ secrets.API_TOKEN }}\n    steps:\n"
             "      - run: env\n"), ["QG-CI-007"]),
        (_wf("    steps:\n      - run: env\n"), []),
        (_wf("    env:\n      TOKEN: x\n    steps:\n      - run: echo $TOKEN\n"), []),
        (_wf("    steps:\n      - run: 'curl -H \"Authorization: ${{ secrets.T }}\" https://x > o'\n"),
         []),
        # OIDC versus stored cloud keys
        (_wf(f"    steps:\n      - uses: aws-actions/configure-aws-credentials@{SHA}\n"
             "        with:\n          role-to-assume: arn:aws:iam::1:role/r\n"), []),
        (_wf("    env:\n      AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}\n"
             "    steps:\n      - run: aws s3 ls\n"), ["QG-CI-008"]),
        (_wf(f"    steps:\n      - uses: google-github-actions/auth@{SHA}\n        with:\n"
             "          credentials_json: ${{ secrets.GCP_KEY }}\n"), ["QG-CI-008"]),
        (_wf(f"    steps:\n      - uses: azure/login@{SHA}\n        with:\n"
             "          client-id: ${{ secrets.AZURE_CLIENT_ID }}\n"), []),
    ],
)
def test_github_payloads(text: str, expected: list[str]) -> None:
    assert sorted(f.rule_id for f in scan(WORKFLOW, text)) == expected


@pytest.mark.parametrize(
    ("on", "job_extra", "expected"),
    [
        ("pull_request_target", "", [("QG-CI-009", None), ("QG-CI-010", None)]),
        ("pull_request_target", "    environment: qpu\n",
         [("QG-CI-009", None), ("QG-CI-010", Severity.MEDIUM)]),
        ("pull_request_target",
         "    if: github.event.pull_request.head.repo.full_name == github.repository\n",
         [("QG-CI-009", None)]),
        ("pull_request", "", [("QG-CI-009", None), ("QG-CI-010", Severity.LOW)]),
        ("pull_request", "    environment: qpu\n", [("QG-CI-009", None)]),
        ("push", "", [("QG-CI-009", None)]),
    ],
)
def test_quantum_credentials_and_pull_requests(
    on: str, job_extra: str, expected: list[tuple[str, Severity | None]]
) -> None:
    text = _wf(
        job_extra + "    steps:\n      - run: python submit.py\n        env:\n"
        "          IONQ_API_KEY: ${{ secrets.IONQ_API_KEY }}\n",
        on=on,
    )
    detection = run(WORKFLOW, text)
    # None: the issue names no severity, so the finding gets the rule's default
    assert sorted((i.rule_id, i.severity) for i in detection.issues) == expected
    assert sorted((f.rule_id, f.severity) for f in detection.findings) == [
        (rule, severity or default_severity(rule)) for rule, severity in expected
    ]
    assert all(f.line == 9 + job_extra.count("\n") for f in detection.findings)


def test_braket_job_with_aws_credentials_counts_as_quantum() -> None:
    text = _wf(
        f"    steps:\n      - uses: aws-actions/configure-aws-credentials@{SHA}\n"
        "        with:\n          role-to-assume: arn:aws:iam::1:role/braket\n"
        "      - run: python -m braket_submit --device sv1\n",
        on="pull_request_target",
    )
    found = scan(WORKFLOW, text)
    assert [f.rule_id for f in found] == ["QG-CI-010"]  # no QG-CI-009: AWS has OIDC
    assert "Amazon Braket" in found[0].message


def test_on_key_loaded_as_boolean_true_and_quoted() -> None:
    text = "'on': pull_request_target\n" + _wf(
        f"    steps:\n      - uses: actions/checkout@{SHA}\n        with:\n"
        "          ref: ${{ github.event.pull_request.head.sha }}\n", on="x"
    ).split("\n", 1)[1]
    assert [f.rule_id for f in scan(WORKFLOW, text)] == ["QG-CI-001"]
    true_key = _wf(
        f"    steps:\n      - uses: actions/checkout@{SHA}\n        with:\n"
        "          ref: ${{ github.event.pull_request.head.sha }}\n",
        on="{pull_request_target: {types: [opened]}}",
    )
    assert [f.rule_id for f in scan(WORKFLOW, true_key)] == ["QG-CI-001"]


def test_exact_line_inside_a_block_script() -> None:
    text = _wf(
        "    steps:\n      - name: many lines\n        run: |\n          make setup\n"
        "          make test\n          echo ${{ github.event.issue.body }}\n",
        on="issues",
    )
    assert located(scan(WORKFLOW, text)) == [("QG-CI-006", 11)]


def _gl(script: str, extra: str = "") -> str:
    return f"job:\n{extra}  script:\n{script}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_gl("    - echo $CI_COMMIT_MESSAGE\n"), ["QG-CI-011"]),
        (_gl('    - echo "$CI_COMMIT_MESSAGE"\n'), []),
        (_gl("    - echo '$CI_COMMIT_MESSAGE'\n"), []),
        (_gl("    - git push origin ${CI_MERGE_REQUEST_SOURCE_BRANCH_NAME}\n"), ["QG-CI-011"]),
        (_gl('    - sh -c "deploy $CI_COMMIT_TITLE"\n'), ["QG-CI-006"]),
        (_gl("    - python -c \"print('$CI_MERGE_REQUEST_DESCRIPTION')\"\n"), ["QG-CI-006"]),
        (_gl("    - echo $CI_COMMIT_REF_SLUG $CI_PIPELINE_ID\n"), []),
        (_gl("    - echo $CI_JOB_TOKEN\n"), ["QG-CI-007"]),
        (_gl('    - echo "$DEPLOY_PASSWORD" | docker login -u x --password-stdin\n'), []),
        (_gl('    - echo "$API_TOKEN" > .token\n'), ["QG-CI-007"]),
        (_gl("    - export -p\n"), ["QG-CI-007"]),
        (_gl('    - curl -H "PRIVATE-TOKEN: $API_TOKEN" https://x > out.json\n'), []),
        (_gl("    - aws configure set aws_secret_access_key $KEY\n"), ["QG-CI-008"]),
        (_gl("    - aws s3 ls\n", extra="  id_tokens:\n    T: {aud: sts.amazonaws.com}\n"), []),
        (_gl("    - python submit.py\n", extra="  variables:\n    DWAVE_API_TOKEN: $DW\n"),
         ["QG-CI-009"]),
        ("include:\n  - template: Security/SAST.gitlab-ci.yml\n  - local: ci/x.yml\n", []),
        (f"include:\n  - project: g/p\n    ref: {SHA}\n", []),
        ("include: https://example.com/x.yml\n", ["QG-CI-004"]),
        ("default:\n  before_script:\n    - echo $CI_COMMIT_BRANCH\n", ["QG-CI-011"]),
        (".hidden:\n  script:\n    - eval $CI_COMMIT_MESSAGE\n", ["QG-CI-006"]),
    ],
)
def test_gitlab_payloads(text: str, expected: list[str]) -> None:
    assert sorted(f.rule_id for f in scan(".gitlab-ci.yml", text)) == expected


def test_gitlab_artifacts_raise_the_file_leak() -> None:
    plain = scan(".gitlab-ci.yml", _gl('    - echo "$API_TOKEN" > .token\n'))
    assert plain[0].severity is Severity.LOW
    kept = run(
        ".gitlab-ci.yml",
        _gl('    - echo "$API_TOKEN" > .token\n') + "  artifacts:\n    paths: [.token]\n",
    )
    assert kept.issues[0].severity is None  # rule default: high
    assert default_severity("QG-CI-007") is Severity.HIGH
    assert kept.findings[0].severity is Severity.HIGH


def test_evidence_never_carries_script_text() -> None:
    text = _wf('    steps:\n      - run: echo "pw=hunter2 ${{ secrets.API_TOKEN }}"\n')
    found = scan(WORKFLOW, text)
    assert found and all("hunter2" not in (f.evidence or "") for f in found)


@pytest.mark.parametrize(
    ("rel", "text"),
    [
        (WORKFLOW, "on: [push\njobs:\n  a: {\n"),
        (".gitlab-ci.yml", "job:\n  script:\n    - echo 'unterminated\n  - x: [\n"),
        (WORKFLOW, "- just\n- a list\n"),
    ],
)
def test_broken_yaml_is_a_parse_error(rel: str, text: str) -> None:
    assert parse_error(run(rel, text)).path == rel


def test_broken_fixture_reports_its_line() -> None:
    error = parse_error(detect(CicdDetector(), fixture("broken", ".github/workflows/ci.yml")))
    assert error.line is not None


def test_rules_exist(catalog: Catalog) -> None:
    for number in range(1, 14):
        assert catalog.rule(f"QG-CI-{number:03d}") is not None
    assert CicdDetector.rules == {f"QG-CI-{number:03d}" for number in range(1, 14)}


# --- actions defined in the repository (action.yml) ------------------------------------------

COMPOSITE = f"""\
name: Submit to QPU
inputs:
  backend:
    description: backend name
runs:
  using: composite
  steps:
    - uses: someorg/qpu-login@v2
    - uses: someorg/qpu-cache@{SHA}
    - shell: bash
      run: |
        echo "Submitting ${{{{ github.event.pull_request.title }}}}"
        python submit.py --backend "$BACKEND"
"""


def test_composite_action_steps_get_the_step_checks() -> None:
    found = scan(".github/actions/submit/action.yml", COMPOSITE)
    assert located(found) == [("QG-CI-004", 8), ("QG-CI-006", 12)]
    assert all(f.message.startswith("composite action, step") for f in found)


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("docker://ghcr.io/example/qlint:1.2", [("QG-CI-004", 4)]),  # the image: line
        ("docker://ghcr.io/example/qlint@sha256:" + "a" * 64, []),
        ("Dockerfile", []),  # built from the repository
    ],
)
def test_docker_action_image_pinning(image: str, expected: list[Located]) -> None:
    text = f"name: lint\nruns:\n  using: docker\n  image: {image}\n"
    assert located(scan("lint/action.yaml", text)) == expected


def test_action_yml_without_runs_is_not_an_action() -> None:
    assert classify("action.yml", "name: x\ndescription: not an action\n") is FileKind.YAML


def test_injection_in_a_folded_run_script_points_at_its_own_line() -> None:
    text = (
        "on: pull_request_target\n"          # 1
        "permissions: {}\n"                  # 2
        "jobs:\n"                            # 3
        "  greet:\n"                         # 4
        "    runs-on: ubuntu-latest\n"       # 5
        "    steps:\n"                       # 6
        "      - run: >\n"                   # 7
        "          echo building\n"          # 8
        "          ${{ github.head_ref }}\n"  # 9
    )
    found = [f for f in scan(WORKFLOW, text) if f.rule_id == "QG-CI-006"]
    assert [f.line for f in found] == [9]


# --- QG-CI-012: pull-request code on self-hosted runners --------------------------------------


def _runner_wf(on: str, runs_on: str, job_extra: str = "", steps: str = "      - run: make test\n") -> str:
    return (
        f"on: {on}\npermissions: {{contents: read}}\njobs:\n  test:\n"
        f"    runs-on: {runs_on}\n{job_extra}    steps:\n{steps}"
    )


CHECKOUT_HEAD = (
    f"      - uses: actions/checkout@{SHA}\n        with:\n"
    "          ref: ${{ github.event.pull_request.head.sha }}\n"
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_runner_wf("pull_request", "self-hosted"), [("QG-CI-012", None)]),
        (_runner_wf("[push, pull_request]", "[self-hosted, linux, x64, gpu]"), [("QG-CI-012", None)]),
        (_runner_wf("pull_request_review", "{labels: [self-hosted, qpu-lab]}"), [("QG-CI-012", None)]),
        (_runner_wf("pull_request", "[Self-Hosted]", "    environment: qpu-lab\n"),
         [("QG-CI-012", Severity.MEDIUM)]),
        (_runner_wf("pull_request_target", "self-hosted", steps=CHECKOUT_HEAD),
         [("QG-CI-001", None), ("QG-CI-012", Severity.CRITICAL)]),
        (_runner_wf("pull_request_target", "self-hosted"), [("QG-CI-012", Severity.MEDIUM)]),
        (_runner_wf("pull_request", "${{ matrix.runner }}",
                    "    strategy:\n      matrix:\n        runner: [ubuntu-latest, self-hosted]\n"),
         [("QG-CI-012", None)]),
        # not reported: no pull-request trigger, GitHub-hosted, or forks kept out
        (_runner_wf("push", "self-hosted"), []),
        (_runner_wf("pull_request", "ubuntu-latest"), []),
        (_runner_wf("pull_request", "[ubuntu-latest, self-hosted-docs]"), []),
        (_runner_wf("pull_request", "${{ matrix.os }}",
                    "    strategy:\n      matrix:\n        os: [ubuntu-latest, macos-14]\n"), []),
        (_runner_wf("pull_request", "self-hosted",
                    "    if: github.event.pull_request.head.repo.full_name == github.repository\n"),
         []),
        (_runner_wf("pull_request", "{group: gpu-runners}"), []),
    ],
)
def test_pull_request_code_on_self_hosted_runners(
    text: str, expected: list[tuple[str, Severity | None]]
) -> None:
    detection = run(WORKFLOW, text)
    assert sorted((i.rule_id, i.severity) for i in detection.issues) == expected
    runner = [f for f in detection.findings if f.rule_id == "QG-CI-012"]
    assert all(f.line == 5 and "self-hosted" in f.message for f in runner)


# --- QG-CI-013: unpinned pip install in CI scripts --------------------------------------------


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("pip install qiskit qiskit-ibm-runtime", ["qiskit", "qiskit-ibm-runtime"]),
        ("python -m pip install 'amazon-braket-sdk>=1.80' qiskit==2.1.0", ["amazon-braket-sdk>=1.80"]),
        ("cd bench && pip3 install --quiet pennylane[torch] && pytest", ["pennylane[torch]"]),
        ("uv pip install --system tox", ["tox"]),
        ("sudo pip install -U pip setuptools wheel pre-commit", ["pre-commit"]),
        ("(cd docs; PIP_NO_CACHE_DIR=1 sudo -H pip install sphinx)", ["sphinx"]),
        ("pip install -r requirements.txt qiskit-aer", ["qiskit-aer"]),
        # pinned, local, hashed or decided elsewhere: not reported
        ("pip install -r requirements.txt", []),
        ("pip install --require-hashes -r requirements.lock", []),
        ("pip install -e .", []),
        ("pip install '.[test]'", []),
        ("pip install ./wheels/qgov-1.0-py3-none-any.whl", []),
        ("python -m pip install --upgrade pip", []),
        ("pip install qiskit==2.1.0 qiskit-aer==0.17.1", []),
        ("pip install -c constraints.txt qiskit qiskit-aer", []),
        ("pip install qiskit==${{ matrix.qiskit }}", []),
        ("pip install ${{ matrix.package }}", []),
        ('pip install "qiskit==$QISKIT_VERSION"', []),
        ("echo pip install qiskit is what users run", []),
        ("pipx run build", []),
    ],
)
def test_unpinned_pip_install_in_run_scripts(script: str, expected: list[str]) -> None:
    text = _wf(f"    steps:\n      - name: deps\n        run: {script}\n")
    found = [f for f in scan(WORKFLOW, text) if f.rule_id == "QG-CI-013"]
    if not expected:
        assert found == []
        return
    (finding,) = found
    assert finding.line == 8 and finding.severity is Severity.MEDIUM
    assert finding.evidence == ", ".join(expected)


def test_unpinned_install_in_a_block_script_and_its_continuation_lines() -> None:
    text = _wf(
        "    env:\n      QISKIT_IBM_TOKEN: ${{ secrets.QISKIT_IBM_TOKEN }}\n"
        "    steps:\n      - run: |\n          python -m pip install --upgrade pip\n"
        "          pip install \\\n            qiskit \\\n            qiskit-ibm-runtime==0.40.1\n"
        "          python submit.py\n"
    )
    (finding,) = [f for f in scan(WORKFLOW, text) if f.rule_id == "QG-CI-013"]
    assert finding.line == 11 and finding.evidence == "qiskit"  # where the command starts
    assert "secrets" in finding.message


def test_unpinned_install_in_a_composite_action() -> None:
    text = "runs:\n  using: composite\n  steps:\n    - shell: bash\n      run: pip install cirq\n"
    assert located(scan("action.yml", text)) == [("QG-CI-013", 5)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_gl("    - pip install qiskit pytest\n"), [("QG-CI-013", 3)]),
        (_gl("    - pip install -r requirements.txt\n    - pip install -e .\n"), []),
        ("default:\n  before_script:\n    - python -m pip install 'qiskit>=2'\n",
         [("QG-CI-013", 3)]),
        (_gl("    - |\n      pip install \\\n        cirq\n"), [("QG-CI-013", 4)]),
    ],
)
def test_unpinned_pip_install_in_gitlab_scripts(text: str, expected: list[Located]) -> None:
    assert located(scan(".gitlab-ci.yml", text)) == expected


@pytest.mark.parametrize(
    "hostile",
    [
        "pip install " * 9_000,
        "python -m pip " * 8_000,
        "pip install ${{" * 7_000,
        "${{ " * 25_000,
        "pip install " + "a " * 50_000,
        "pip install a; " * 7_000,
        "uv pip install " + "x==" * 30_000,
        "A=1 " * 25_000 + "pip install x",
        "sudo -H " * 12_000 + "pip install x",
        "sudo " + "-H " * 30_000,
        "A=" + "b" * 100_000,
        "(" * 100_000,
    ],
)
def test_ci_install_patterns_are_linear_on_hostile_lines(hostile: str) -> None:
    started = time.perf_counter()
    unpinned_installs(hostile)
    assert time.perf_counter() - started < 0.5

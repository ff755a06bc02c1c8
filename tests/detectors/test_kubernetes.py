"""Kubernetes detector (QG-K8S-*): multi-document manifests, pod specs in every workload kind."""

from __future__ import annotations

import textwrap

import pytest

from scanner.detectors.kubernetes import KubernetesDetector
from scanner.formats.yaml import MAX_YAML_CHARS
from scanner.model import FileKind, Finding, ScanError, Severity
from scanner.source import SourceFile
from tests.helpers import (
    Detection,
    Located,
    default_severity,
    detect,
    findings,
    located,
    parse_error,
    rule_ids,
    source,
)

SECRET_VALUE = "not-a-real-token-for-tests"


def manifest_file(text: str, path: str = "deploy/app.yaml") -> SourceFile:
    manifest = source(textwrap.dedent(text), path)
    assert manifest.kind is FileKind.KUBERNETES
    return manifest


def scan(text: str, path: str = "deploy/app.yaml") -> list[Finding]:
    return findings(KubernetesDetector(), manifest_file(text, path))


def run(text: str, path: str = "deploy/app.yaml") -> Detection:
    return detect(KubernetesDetector(), manifest_file(text, path))


def refused(text: str, path: str = "deploy/app.yaml") -> ScanError:
    """The parse error scanning ``text`` as ``path`` gives."""
    error = parse_error(run(text, path))
    assert error.path == path
    return error


HARDENED = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: vqe
  namespace: quantum-jobs
spec:
  template:
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
      containers:
        - name: runner
          image: ghcr.io/example/runner:1.0@sha256:{digest}
          env:
            - name: QISKIT_IBM_TOKEN
              valueFrom:
                secretKeyRef: {{name: tokens, key: ibm}}
          resources:
            limits:
              cpu: "1"
              memory: 1Gi
          securityContext:
            allowPrivilegeEscalation: false
""".format(digest="a" * 64)
HARDENED_CONTEXT = "          securityContext:\n            allowPrivilegeEscalation: false\n"


def variant(old: str, new: str) -> str:
    assert old in HARDENED, old
    return HARDENED.replace(old, new)


def context(settings: str) -> str:
    """HARDENED with the container's securityContext (line 23) holding ``settings`` (from
    line 24), or without a securityContext when ``settings`` is empty."""
    return variant(HARDENED_CONTEXT, "          securityContext:\n" + textwrap.indent(
        textwrap.dedent(settings), " " * 12) if settings else "")


def test_hardened_job_is_clean() -> None:
    assert scan(HARDENED) == []


# Lines of HARDENED: 9 pod securityContext, 11 runAsUser, 12 containers, 13 "- name: runner",
# 14 image, 15 env, 19 resources, 20 limits, 23 the container's securityContext, 24
# allowPrivilegeEscalation. Insertions shift the lines after them.
@pytest.mark.parametrize(
    ("rule", "manifest", "expected"),
    [
        ("QG-K8S-001", context("privileged: true\n"), [("QG-K8S-001", 24)]),
        ("QG-K8S-001", context("allowPrivilegeEscalation: false\n"
                               "capabilities:\n  add: [SYS_ADMIN]\n"), [("QG-K8S-001", 26)]),
        ("QG-K8S-001", context("allowPrivilegeEscalation: true\n"), [("QG-K8S-001", 24)]),
        ("QG-K8S-001", context("allowPrivilegeEscalation: false\nprivileged: false\n"
                               "capabilities:\n  drop: [ALL]\n  add: [NET_BIND_SERVICE]\n"),
         []),
        # unset: it defaults to true (low), on the securityContext or else the container
        ("QG-K8S-001", context("readOnlyRootFilesystem: true\n"), [("QG-K8S-001", 23)]),
        ("QG-K8S-001", context(""), [("QG-K8S-001", 13)]),
        ("QG-K8S-002", variant("      containers:", "      hostNetwork: true\n      containers:"),
         [("QG-K8S-002", 12)]),
        ("QG-K8S-002", variant("      containers:", "      hostPID: true\n      containers:"),
         [("QG-K8S-002", 12)]),
        ("QG-K8S-002", variant("      containers:", "      volumes:\n        - name: d\n"
                               "          hostPath: {path: /var/run/docker.sock}\n"
                               "      containers:"), [("QG-K8S-002", 14)]),  # the hostPath
        ("QG-K8S-002", variant("      containers:", "      hostNetwork: false\n"
                               "      volumes:\n        - name: d\n          emptyDir: {}\n"
                               "      containers:"), []),
        # no runAsNonRoot anywhere: the container (line 11 once the two lines are gone)
        ("QG-K8S-003", variant("        runAsNonRoot: true\n        runAsUser: 10001\n", ""),
         [("QG-K8S-003", 11)]),
        ("QG-K8S-003", variant("        runAsUser: 10001", "        runAsUser: 0"),
         [("QG-K8S-003", 11)]),
        ("QG-K8S-003", variant("        runAsNonRoot: true\n        runAsUser: 10001\n",
                               "        fsGroup: 2000\n").replace(
            "            allowPrivilegeEscalation: false\n",
            "            allowPrivilegeEscalation: false\n            runAsUser: 1000\n"),
         []),
        ("QG-K8S-004", variant("runner:1.0@sha256:" + "a" * 64, "runner:latest"),
         [("QG-K8S-004", 14)]),
        ("QG-K8S-004", variant("runner:1.0@sha256:" + "a" * 64, "runner"), [("QG-K8S-004", 14)]),
        ("QG-K8S-004", variant("runner:1.0@sha256:" + "a" * 64, "runner:1.0"),
         [("QG-K8S-004", 14)]),
        ("QG-K8S-004", variant("runner:1.0@sha256:" + "a" * 64, '"{{ .Values.image }}"'), []),
        ("QG-K8S-005", variant("              valueFrom:\n                secretKeyRef: "
                               "{name: tokens, key: ibm}",
                               f"              value: {SECRET_VALUE}"), [("QG-K8S-005", 17)]),
        ("QG-K8S-005", variant("            - name: QISKIT_IBM_TOKEN\n              valueFrom:\n"
                               "                secretKeyRef: {name: tokens, key: ibm}",
                               "            - name: QISKIT_IBM_CHANNEL\n"
                               "              value: ibm_quantum_platform"), []),
        ("QG-K8S-005", variant("              valueFrom:\n                secretKeyRef: "
                               "{name: tokens, key: ibm}",
                               "              value: $(TOKEN_FROM_FILE)"), []),
        # no resources at all: the container; memory missing: its limits
        ("QG-K8S-006", variant("          resources:\n            limits:\n              cpu: \"1\"\n"
                               "              memory: 1Gi\n", ""), [("QG-K8S-006", 13)]),
        ("QG-K8S-006", variant("              memory: 1Gi\n", ""), [("QG-K8S-006", 20)]),
        *[(rule, HARDENED, []) for rule in ("QG-K8S-001", "QG-K8S-002", "QG-K8S-003",
                                            "QG-K8S-004", "QG-K8S-005", "QG-K8S-006")],
    ],
)
def test_workload_rules(rule: str, manifest: str, expected: list[Located]) -> None:
    assert located(scan(manifest)) == expected, rule


@pytest.mark.parametrize(
    ("settings", "severity"),
    [
        ("allowPrivilegeEscalation: true\n", Severity.MEDIUM),  # asked for
        ("readOnlyRootFilesystem: true\n", Severity.LOW),  # left to the default (true)
        ("", Severity.LOW),
    ],
)
def test_privilege_escalation_explicit_or_by_default(settings: str, severity: Severity) -> None:
    [finding] = scan(context(settings))
    assert finding.rule_id == "QG-K8S-001" and finding.severity is severity
    assert "allowPrivilegeEscalation" in finding.message


SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: tokens
  namespace: {namespace}
type: Opaque
{data}
"""


@pytest.mark.parametrize(
    ("rule", "namespace", "data", "expected"),
    [
        ("QG-K8S-007", "default", "", [("QG-K8S-007", 5)]),  # the namespace line
        ("QG-K8S-007", "kube-system", "", [("QG-K8S-007", 5)]),
        ("QG-K8S-007", "quantum-jobs", "", []),
        # each stored value, on its own line
        ("QG-K8S-008", "quantum-jobs", f"stringData:\n  ibm: {SECRET_VALUE}", [("QG-K8S-008", 8)]),
        ("QG-K8S-008", "quantum-jobs", f"stringData:\n  ibm: {SECRET_VALUE}\n  ionq: x{SECRET_VALUE}"
         "\ndata:\n  aws: bm90LWEtcmVhbC10b2tlbg==",
         [("QG-K8S-008", 8), ("QG-K8S-008", 9), ("QG-K8S-008", 11)]),
        ("QG-K8S-008", "quantum-jobs", "data:\n  ibm: bm90LWEtcmVhbC10b2tlbg==",
         [("QG-K8S-008", 8)]),
        ("QG-K8S-008", "quantum-jobs", 'stringData:\n  ibm: "{{ .Values.token }}"', []),
        ("QG-K8S-008", "quantum-jobs", "data: {}", []),
    ],
)
def test_secret_rules(rule: str, namespace: str, data: str, expected: list[Located]) -> None:
    manifest = SECRET.format(namespace=namespace, data=data)
    found = scan(manifest)
    assert located(found) == expected, rule
    assert all(SECRET_VALUE not in (f.evidence or "") + f.message for f in found)


CLUSTER_ROLE = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: reader
rules:
  - apiGroups: [""]
    resources: [{resources}]
    verbs: [get, list]
"""
BINDING = """\
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: reader
roleRef: {{kind: ClusterRole, name: {role}, apiGroup: rbac.authorization.k8s.io}}
subjects:
  - {{kind: ServiceAccount, name: runner, namespace: quantum-jobs}}
"""


@pytest.mark.parametrize(
    ("manifest", "expected"),
    [
        (CLUSTER_ROLE.format(resources="secrets") + BINDING.format(role="reader"),
         Severity.HIGH),
        (CLUSTER_ROLE.format(resources="secrets"), Severity.LOW),
        (CLUSTER_ROLE.format(resources='"*"') + BINDING.format(role="reader"), Severity.HIGH),
        (CLUSTER_ROLE.format(resources="pods") + BINDING.format(role="reader"), None),
        (BINDING.format(role="cluster-admin").removeprefix("---\n"), Severity.HIGH),
        (BINDING.format(role="view").removeprefix("---\n"), None),
    ],
)
def test_cluster_wide_secret_access(manifest: str, expected: Severity | None) -> None:
    detection = run(manifest)
    found = [f for f in detection.findings if f.rule_id == "QG-K8S-009"]
    if expected is None:
        assert found == []
    else:
        (finding,) = found
        # the default severity (high) comes from the catalog; only the lowered one is explicit
        (issue,) = [i for i in detection.issues if i.rule_id == "QG-K8S-009"]
        assert issue.severity is (None if expected is Severity.HIGH else expected)
        assert default_severity("QG-K8S-009") is Severity.HIGH
        assert finding.severity is expected


def test_multi_document_manifest_with_exact_lines() -> None:
    manifest = textwrap.dedent(f"""\
        # two workloads and a secret in one file
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: lab
        spec:
          template:
            spec:
              hostNetwork: true
              containers:
                - name: lab
                  image: quay.io/jupyter/scipy-notebook:latest
                  securityContext:
                    privileged: true
                    runAsUser: 0
                  env:
                    - name: IONQ_API_KEY
                      value: {SECRET_VALUE}
        ---
        apiVersion: batch/v1
        kind: CronJob
        metadata:
          name: nightly
        spec:
          schedule: "0 2 * * *"
          jobTemplate:
            spec:
              template:
                spec:
                  securityContext: {{runAsNonRoot: true}}
                  initContainers:
                    - name: fetch
                      image: busybox
                      resources: {{limits: {{cpu: 100m, memory: 64Mi}}}}
                  containers:
                    - name: run
                      image: ghcr.io/example/run:2.1
                      resources:
                        limits: {{cpu: "1"}}
        ---
        apiVersion: v1
        kind: List
        items:
          - apiVersion: v1
            kind: Secret
            metadata: {{name: s, namespace: default}}
        """)
    found = sorted((f.rule_id, f.line) for f in scan(manifest))
    assert found == [
        ("QG-K8S-001", 14),  # privileged
        ("QG-K8S-001", 32),  # fetch: allowPrivilegeEscalation unset (defaults to true)
        ("QG-K8S-001", 36),  # run: the same
        ("QG-K8S-002", 9),  # hostNetwork
        ("QG-K8S-003", 15),  # runAsUser: 0
        ("QG-K8S-004", 12),  # :latest
        ("QG-K8S-004", 33),  # busybox, no tag
        ("QG-K8S-004", 37),  # tag without digest
        ("QG-K8S-005", 18),  # literal API key
        ("QG-K8S-006", 11),  # lab: no resources at all -> the container itself
        ("QG-K8S-006", 39),  # run: cpu only, no memory (at its limits)
        ("QG-K8S-007", 46),  # Secret (inside a List) in default
    ]
    by_line = {(f.rule_id, f.line): f for f in scan(manifest)}
    assert by_line[("QG-K8S-001", 32)].severity is Severity.LOW
    assert by_line[("QG-K8S-003", 15)].severity is Severity.HIGH
    assert by_line[("QG-K8S-004", 37)].severity is Severity.LOW
    assert SECRET_VALUE not in (by_line[("QG-K8S-005", 18)].evidence or "")


def test_every_workload_kind_is_read() -> None:
    template = "spec:\n  containers:\n    - {name: c, image: busybox:latest}\n"
    nested = {
        "Pod": template,
        "Deployment": "spec:\n  template:\n    " + template.replace("\n", "\n    "),
        "StatefulSet": "spec:\n  template:\n    " + template.replace("\n", "\n    "),
        "DaemonSet": "spec:\n  template:\n    " + template.replace("\n", "\n    "),
        "ReplicaSet": "spec:\n  template:\n    " + template.replace("\n", "\n    "),
        "Job": "spec:\n  template:\n    " + template.replace("\n", "\n    "),
        "CronJob": "spec:\n  jobTemplate:\n    spec:\n      template:\n        "
                   + template.replace("\n", "\n        "),
    }
    for kind, body in nested.items():
        manifest = f"apiVersion: v1\nkind: {kind}\nmetadata: {{name: x}}\n{body}"
        assert "QG-K8S-004" in rule_ids(scan(manifest)), kind


def test_non_workload_objects_are_ignored() -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  API_KEY: x\n"
    assert scan(manifest) == []


# --- input the detector must refuse ----------------------------------------------------------

HELM = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-runner
spec:
  replicas: {{ .Values.replicas }}
  template:
    spec:
      containers:
        - name: runner
          image: {{ .Values.image }}
"""


def test_helm_placeholders_are_a_parse_error() -> None:
    error = refused(HELM, "chart/templates/deployment.yaml")
    assert "placeholders" in error.message
    assert error.line == 4  # the first unquoted placeholder


def test_helm_control_lines_are_a_parse_error() -> None:
    manifest = "{{- if .Values.enabled }}\napiVersion: v1\nkind: Pod\nmetadata: {name: x}\n" \
               "{{- end }}\n"
    assert "placeholders" in refused(manifest, "chart/templates/pod.yaml").message


def test_quoted_placeholders_are_values_not_errors() -> None:
    manifest = HARDENED.replace("  name: vqe\n", '  name: "{{ workflow.name }}"\n')
    assert scan(manifest) == []


def test_huge_manifest_is_refused_before_parsing() -> None:
    padding = "# padding\n" * (MAX_YAML_CHARS // 10 + 1)
    assert "too large" in refused(HARDENED + padding).message


def test_malformed_yaml_is_a_parse_error() -> None:
    assert refused("apiVersion: v1\nkind: Pod\nspec:\n  containers: [\n").line is not None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("  DB_PASSWORD: Qj0bs-Pr0d-x7Kp2\n", [("QG-K8S-005", 6)]),
        ("  QISKIT_IBM_TOKEN: not-a-real-but-literal-7Hq2\n", [("QG-K8S-005", 6)]),
        ("  DB_PASSWORD_FILE: /var/run/secrets/db\n", []),
        ("  LOG_LEVEL: debug\n  SHOTS: '4096'\n", []),
        ("  API_KEY: ${API_KEY}\n", []),
    ],
)
def test_credentials_in_config_maps(data: str, expected: list[Located]) -> None:
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: runner\ndata:\n" + data
    found = scan(manifest)
    assert located(found) == expected
    assert all("Pr0d" not in (f.evidence or "") + f.message for f in found)

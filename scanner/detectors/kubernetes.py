"""Kubernetes manifests: workload isolation, image pinning, credentials and Secret exposure.

Reads every document of a (multi-document) manifest, unwraps ``List`` kinds, and finds the
pod spec of Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs, CronJobs and
PodTemplates. Rules (metadata in ``scanner/rules/iac.yaml``):

- QG-K8S-001 privileged container, dangerous added capabilities, or privilege escalation
  allowed (explicitly: medium; by leaving ``allowPrivilegeEscalation`` unset, which defaults
  to true: low);
- QG-K8S-002 host namespaces (hostNetwork, hostPID, hostIPC) or hostPath volumes;
- QG-K8S-003 container may run as root (no ``runAsNonRoot: true`` and no non-zero
  ``runAsUser``; UID 0 is high);
- QG-K8S-004 image without a tag or on ``:latest`` (medium), or tag without digest (low);
- QG-K8S-005 literal credential in a container ``env`` value (``*TOKEN*``, ``*SECRET*`` …);
- QG-K8S-006 container without memory (medium) or CPU (low) limits;
- QG-K8S-007 Secret object placed in ``default`` or ``kube-system``;
- QG-K8S-008 Secret manifest committed with literal ``data``/``stringData`` (one finding
  per value, on its line);
- QG-K8S-009 cluster-wide read access to Secrets (ClusterRole bound by a
  ClusterRoleBinding in the same file; ``cluster-admin`` bindings).

Helm/Jinja templates with unquoted ``{{ … }}`` placeholders are a parse error for the file
(render the chart first): such placeholders either break YAML or, worse, load as nested
mappings. Quoted values that still contain placeholders are skipped. Manifests over
``MAX_YAML_CHARS`` are reported as too large rather than parsed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scanner.detectors.iac_common import (
    Located,
    iac_issue,
    image_pin_issue,
    literal_secret,
)
from scanner.detectors.interface import Detector
from scanner.detectors.secret_names import secret_name
from scanner.formats.errors import ParseError
from scanner.formats.image_ref import parse_image
from scanner.formats.yaml import LineDict, LineList, check_size, yaml_hazards
from scanner.masking import mask
from scanner.model import FileKind, Issue, Severity
from scanner.source import SourceFile

_POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
_DANGEROUS_CAPABILITIES = frozenset(
    {"ALL", "SYS_ADMIN", "NET_ADMIN", "SYS_PTRACE", "SYS_MODULE", "DAC_READ_SEARCH", "BPF",
     "SYS_RAWIO", "NET_RAW"}
)
_HOST_NAMESPACES = ("hostNetwork", "hostPID", "hostIPC")
# Compared after stripping a trailing "/" (so "/" itself is "").
_SENSITIVE_HOST_PATHS = frozenset({"", "/etc", "/root", "/var/run/docker.sock", "/run/containerd",
                                   "/var/run/containerd", "/var/lib/kubelet", "/proc", "/sys"})
_BROAD_NAMESPACES = frozenset({"default", "kube-system"})
_READ_VERBS = frozenset({"get", "list", "watch", "*"})


def _placeholder(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "${" in value)


def _dig(node: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _line(node: Any, key: Any = None, default: int = 1) -> int:
    if isinstance(node, LineDict):
        return node.line_of(key) if key is not None else node.line
    if isinstance(node, LineList):
        return node.line_of(key) if isinstance(key, int) else node.line
    return default


def _objects(documents: list[Any]) -> Iterator[LineDict]:
    for document in documents:
        if not isinstance(document, LineDict):
            continue
        kind = document.get("kind")
        items = document.get("items")
        if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
            yield from _objects(list(items))
        else:
            yield document


class _Manifest:
    def __init__(self, objects: list[LineDict]) -> None:
        self.objects = objects

    def issues(self) -> Iterator[Issue]:
        bound = self._cluster_bound_roles()
        for obj in self.objects:
            kind = obj.get("kind")
            if not isinstance(kind, str):
                continue
            metadata = obj.get("metadata")
            name = metadata.get("name") if isinstance(metadata, dict) else None
            label = f"{kind}/{name if isinstance(name, str) else '?'}"
            path = _POD_SPEC_PATHS.get(kind)
            if path is not None:
                spec = _dig(obj, path)
                if isinstance(spec, LineDict):
                    yield from self._pod(label, spec)
            elif kind == "Secret":
                yield from self._secret(label, obj, metadata)
            elif kind == "ConfigMap":
                yield from self._config_map(label, obj)
            elif kind == "ClusterRole":
                yield from self._cluster_role(label, obj, name, bound)
            elif kind == "ClusterRoleBinding":
                yield from self._cluster_admin_binding(label, obj)

    # pods --------------------------------------------------------------------------------------

    def _pod(self, label: str, spec: LineDict) -> Iterator[Issue]:
        for key in _HOST_NAMESPACES:
            if spec.get(key) is True:
                yield iac_issue(
                    "QG-K8S-002", Located("", spec.line_of(key)),
                    f"{label} shares the node's {key[4:]} namespace ({key}: true)",
                    f"{label}:{key}",
                )
        volumes = spec.get("volumes")
        for index, volume in enumerate(volumes if isinstance(volumes, list) else []):
            host_path = volume.get("hostPath") if isinstance(volume, dict) else None
            if isinstance(host_path, dict):
                target = str(host_path.get("path", ""))
                sensitive = target.rstrip("/") in _SENSITIVE_HOST_PATHS or target.endswith(".sock")
                yield iac_issue(
                    "QG-K8S-002", Located("", _line(volume, "hostPath", _line(volumes, index))),
                    f"{label} mounts the node path {target or '?'} (hostPath volume "
                    f"'{volume.get('name', '?')}')",
                    f"{label}:hostPath:{target}",
                    None if sensitive else Severity.MEDIUM,
                )
        pod_context = spec.get("securityContext")
        pod_context = pod_context if isinstance(pod_context, dict) else {}
        for list_key in _CONTAINER_LISTS:
            containers = spec.get(list_key)
            for container in containers if isinstance(containers, list) else []:
                if isinstance(container, LineDict):
                    yield from self._container(label, list_key, container, pod_context)

    def _container(
        self, label: str, list_key: str, container: LineDict, pod_context: dict[str, Any]
    ) -> Iterator[Issue]:
        where = f"{label} container '{container.get('name', '?')}'"
        context = container.get("securityContext")
        context = context if isinstance(context, LineDict) else None
        if context is not None:
            if context.get("privileged") is True:
                yield iac_issue(
                    "QG-K8S-001", Located("", context.line_of("privileged")),
                    f"{where} runs privileged (full access to the node)",
                    f"{where}:privileged",
                )
            added = _dig(context, ("capabilities", "add"))
            dangerous = sorted(
                {str(c).upper().removeprefix("CAP_") for c in added}
                & _DANGEROUS_CAPABILITIES
            ) if isinstance(added, list) else []
            if dangerous:
                capabilities = context.get("capabilities")
                yield iac_issue(
                    "QG-K8S-001", Located("", _line(capabilities, "add", context.line)),
                    f"{where} adds capabilities {', '.join(dangerous)}",
                    f"{where}:caps:{','.join(dangerous)}",
                )
        yield from self._escalation(where, container, context)
        yield from self._root(where, container, context, pod_context)
        image = container.get("image")
        if isinstance(image, str) and image.strip() and not _placeholder(image):
            ref = parse_image(image)
            problem = image_pin_issue(ref)
            if problem is not None:
                severity, text = problem
                yield iac_issue(
                    "QG-K8S-004", Located("", container.line_of("image")),
                    f"{where}: image {ref.display} {text}",
                    f"{where}:image:{ref.name}:{ref.tag}",
                    None if severity is Severity.MEDIUM else severity,
                    evidence=ref.display[:120],
                )
        yield from self._env(where, container)
        if list_key != "ephemeralContainers":
            yield from self._limits(where, container)

    def _escalation(
        self, where: str, container: LineDict, context: LineDict | None
    ) -> Iterator[Issue]:
        """allowPrivilegeEscalation is true unless set to false: a process can then gain
        more privileges than its parent (setuid binaries, file capabilities). Explicitly
        true is medium; left unset is low - the same exposure, but by omission, and it only
        turns into root where the image ships a setuid binary or the container runs as root
        (QG-K8S-003 says so separately). Privileged containers always escalate and are
        already reported as privileged."""
        if context is not None and context.get("privileged") is True:
            return
        value = context.get("allowPrivilegeEscalation") if context is not None else None
        if value is True:
            assert context is not None
            yield iac_issue(
                "QG-K8S-001", Located("", context.line_of("allowPrivilegeEscalation")),
                f"{where} sets allowPrivilegeEscalation: true",
                f"{where}:escalation", Severity.MEDIUM,
            )
        elif value is None:
            line = container.line_of("securityContext") if context is not None else (
                container.line)
            yield iac_issue(
                "QG-K8S-001", Located("", line),
                f"{where} does not set allowPrivilegeEscalation: false, so it defaults to true "
                "and a process in it can gain privileges through setuid binaries",
                f"{where}:escalation-default", Severity.LOW,
            )

    def _root(
        self, where: str, container: LineDict, context: LineDict | None,
        pod_context: dict[str, Any],
    ) -> Iterator[Issue]:
        def effective(key: str) -> Any:
            if context is not None and key in context:
                return context.get(key)
            return pod_context.get(key)

        user = effective("runAsUser")
        if user == 0 or user == "0":
            line = context.line_of("runAsUser") if context is not None and (
                "runAsUser" in context
            ) else _line(pod_context, "runAsUser", container.line)
            yield iac_issue(
                "QG-K8S-003", Located("", line), f"{where} runs as UID 0 (root)",
                f"{where}:uid0", Severity.HIGH,
            )
            return
        if effective("runAsNonRoot") is True or (isinstance(user, int) and user > 0):
            return
        line = context.line_of("runAsNonRoot") if context is not None and (
            "runAsNonRoot" in context
        ) else container.line
        yield iac_issue(
            "QG-K8S-003", Located("", line),
            f"{where} may run as root: neither runAsNonRoot: true nor a non-zero runAsUser is "
            "set for it or its pod",
            f"{where}:root",
        )

    def _env(self, where: str, container: LineDict) -> Iterator[Issue]:
        env = container.get("env")
        for item in env if isinstance(env, list) else []:
            if not isinstance(item, LineDict):
                continue
            name = item.get("name")
            value = item.get("value")
            if not isinstance(name, str) or "valueFrom" in item:
                continue
            if not secret_name(name, key_word=True):
                continue
            if literal_secret(value) and not _placeholder(value):
                yield iac_issue(
                    "QG-K8S-005", Located("", item.line_of("value")),
                    f"{where}: env {name} holds a literal credential; use valueFrom.secretKeyRef "
                    "(backed by an external secret store) or workload identity",
                    f"{where}:env:{name}:{mask(str(value))}",
                    evidence=f"{name}={mask(str(value))}",
                )

    def _limits(self, where: str, container: LineDict) -> Iterator[Issue]:
        resources = container.get("resources")
        limits = resources.get("limits") if isinstance(resources, dict) else None
        limits = limits if isinstance(limits, dict) else {}
        missing = [key for key in ("memory", "cpu") if key not in limits]
        if not missing:
            return
        line = _line(resources, "limits", container.line) if isinstance(resources, LineDict) else (
            container.line
        )
        yield iac_issue(
            "QG-K8S-006", Located("", line),
            f"{where} has no {' or '.join(missing)} limit (resources.limits)",
            f"{where}:limits:{','.join(missing)}",
            None if "memory" in missing else Severity.LOW,
        )

    # secrets and RBAC ----------------------------------------------------------------------------

    def _secret(self, label: str, obj: LineDict, metadata: Any) -> Iterator[Issue]:
        namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
        if isinstance(namespace, str) and namespace in _BROAD_NAMESPACES:
            yield iac_issue(
                "QG-K8S-007", Located("", _line(metadata, "namespace", obj.line)),
                f"{label} is placed in the shared '{namespace}' namespace, where every workload "
                "and many service accounts can read it",
                f"{label}:namespace:{namespace}",
            )
        # One finding per stored value, on its line: each is a credential to rotate, and the
        # generic secret rule (QG-SEC-013), which reports a random-looking value on the same
        # line, yields to this one.
        for field in ("data", "stringData"):
            values = obj.get(field)
            if not isinstance(values, dict):
                continue
            for key, value in values.items():
                if not isinstance(value, str) or not value.strip() or _placeholder(value):
                    continue
                yield iac_issue(
                    "QG-K8S-008", Located("", _line(values, key, obj.line_of(field))),
                    f"{label} is committed with a literal value for {field}.{key}; Base64 is "
                    "no protection, so the credential is in the repository and its history. "
                    "Keep it in a secret manager (External Secrets, Sealed Secrets, CSI driver)",
                    f"{label}:literal:{field}.{key}:{mask(value)}",
                    evidence=f"key: {field}.{key}"[:160],
                )

    def _config_map(self, label: str, obj: LineDict) -> Iterator[Issue]:
        """ConfigMaps are plain configuration: readable by anyone with `get configmaps`,
        shown in dashboards and logs. A credential there is not even treated as a Secret."""
        data = obj.get("data")
        if not isinstance(data, LineDict):
            return
        for key, value in data.items():
            if not isinstance(key, str) or not secret_name(key, key_word=True):
                continue
            if literal_secret(value) and not _placeholder(value) and "\n" not in str(value):
                masked = mask(str(value))
                yield iac_issue(
                    "QG-K8S-005", Located("", data.line_of(key)),
                    f"{label}: key {key} holds a literal credential in a ConfigMap, which is "
                    "not secret storage; move it to a Secret fed from a secret manager",
                    f"{label}:configmap:{key}:{masked}",
                    evidence=f"{key}={masked}",
                )

    def _cluster_bound_roles(self) -> dict[str, int]:
        """ClusterRole name -> line of a ClusterRoleBinding in this file that binds it."""
        bound: dict[str, int] = {}
        for obj in self.objects:
            if obj.get("kind") != "ClusterRoleBinding":
                continue
            ref = obj.get("roleRef")
            if isinstance(ref, dict) and ref.get("kind", "ClusterRole") == "ClusterRole":
                name = ref.get("name")
                if isinstance(name, str):
                    bound.setdefault(name, obj.line)
        return bound

    def _cluster_role(
        self, label: str, obj: LineDict, name: Any, bound: dict[str, int]
    ) -> Iterator[Issue]:
        rules = obj.get("rules")
        for index, rule in enumerate(rules if isinstance(rules, list) else []):
            if not isinstance(rule, dict):
                continue
            groups = rule.get("apiGroups", [""])
            resources = rule.get("resources") or []
            verbs = rule.get("verbs") or []
            if not isinstance(groups, list) or not isinstance(resources, list) or not isinstance(
                verbs, list
            ):
                continue
            core = "" in groups or "*" in groups
            secrets = "secrets" in resources or "*" in resources
            reads = bool(_READ_VERBS & {str(v) for v in verbs})
            if not (core and secrets and reads):
                continue
            is_bound = isinstance(name, str) and name in bound
            note = (
                "and a ClusterRoleBinding in this file grants it cluster-wide"
                if is_bound else "(not bound in this file; a ClusterRoleBinding would make it "
                "cluster-wide)"
            )
            yield iac_issue(
                "QG-K8S-009", Located("", _line(rules, index, obj.line)),
                f"{label} can read Secrets in every namespace {note}",
                f"{label}:secrets-read",
                None if is_bound else Severity.LOW,
            )
            return

    def _cluster_admin_binding(self, label: str, obj: LineDict) -> Iterator[Issue]:
        ref = obj.get("roleRef")
        if isinstance(ref, dict) and ref.get("name") == "cluster-admin":
            subjects = obj.get("subjects")
            names = [
                f"{s.get('kind', '?')}/{s.get('name', '?')}"
                for s in (subjects if isinstance(subjects, list) else []) if isinstance(s, dict)
            ]
            yield iac_issue(
                "QG-K8S-009", Located("", _line(obj, "roleRef")),
                f"{label} grants cluster-admin (every Secret in the cluster) to "
                f"{', '.join(names) or 'its subjects'}",
                f"{label}:cluster-admin",
            )


class KubernetesDetector(Detector):
    name = "kubernetes"
    kinds = frozenset({FileKind.KUBERNETES})
    rules = frozenset(f"QG-K8S-{n:03d}" for n in range(1, 10))

    def scan(self, source: SourceFile) -> Iterator[Issue]:
        check_size(source.text, "Kubernetes manifest")
        placeholder = yaml_hazards(source.text).placeholder_line
        if placeholder is not None:
            raise ParseError(
                "Kubernetes manifest has unrendered template placeholders ({{ … }}); render "
                "the chart first (helm template / kustomize build) and scan the output",
                placeholder,
            )
        documents = source.yaml_documents
        yield from _Manifest(list(_objects(documents))).issues()

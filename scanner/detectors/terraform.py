"""Terraform: AWS, Azure and IBM Cloud resources that hold, protect or reach quantum job data.

Terraform splits one logical thing over many resources (an S3 bucket's encryption,
public-access block, ACL, policy, versioning and logging are six resources since AWS
provider v4), and a module is every ``.tf`` file of one directory. So the detector reads
the whole directory the scanned file lives in, once per directory (cached per detector
instance, so per worker process), works out every issue of the module, and reports only
the issues located in the file being scanned. Siblings that cannot be read or parsed are
skipped (they are reported when the scan reaches them); symlinks are never followed.

Rules (metadata in ``scanner/rules/iac.yaml``; QG-IAC ids are shared with CloudFormation):

- storage (S3 buckets, Azure storage accounts, IBM COS buckets): QG-IAC-001 no encryption
  at rest, 002 no customer-managed key where the ``qgov:tier`` tag needs one, 003 public
  (ACL, policy ``Principal "*"``, public container, IBM "Public Access" group), 004 no
  complete S3 public access block, 005 no versioning, 006 no access logging, 019 no
  lifecycle rule for job data; ``amazon-braket-*`` buckets and storage attached to a quantum
  workspace count as job data and get higher severities;
- keys: 007 rotation off (``aws_kms_key``, ``azurerm_key_vault_key``), 008 a key-policy
  principal that administers and uses the key, 003 a key policy open to anyone;
- identity: 009 wildcard grants (policy JSON strings, ``jsonencode``, ``aws_iam_policy_document``
  data sources) and AWS administrator managed policies, 010 long-lived keys
  (``aws_iam_access_key``, ``ibm_iam_api_key``, ``ibm_iam_service_api_key``, Azure AD
  client secrets, Google service-account keys), 011 trust policies anyone can use,
  012 Amazon Braket job roles with wildcard or administrator permissions;
- logging: 013 Braket resources without ``aws_cloudtrail`` in the module (once per file),
  Azure Quantum workspaces without diagnostic settings, 014 short log retention;
- network: 015 ingress from 0.0.0.0/0 or ::/0, 016 public endpoints where private access
  exists, 017 TLS below 1.2 / HTTP allowed, 018 shared keys where Entra ID works.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scanner.detectors import aws_policy as policy
from scanner.detectors.aws_policy import Statement
from scanner.detectors.iac_common import (
    BRAKET_BUCKET_PREFIX,
    IAC_RULES,
    Located,
    StorageFacts,
    as_int,
    iac_issue,
    literal_secret,
    storage_issues,
    tier_from_tags,
    truthy,
)
from scanner.detectors.interface import ModuleDetector
from scanner.formats.hcl import (
    Block,
    Call,
    Expr,
    HclFile,
    references,
    text_of,
)
from scanner.masking import mask, redact_url
from scanner.model import FileKind, Issue, Severity, Tier
from scanner.source import SourceFile

_MODULE_SUFFIXES = (".tf", ".tf.json")

# --- the module: every file of one directory -----------------------------------------------------


class Module:
    def __init__(self, files: dict[str, HclFile]) -> None:
        self.files = files
        self.resources: dict[str, list[Block]] = {}
        self.data: dict[str, list[Block]] = {}
        self.providers: list[Block] = []
        self.module_calls: list[Block] = []
        self.variables: list[Block] = []
        self.by_address: dict[str, Block] = {}
        for name in sorted(files):
            for block in files[name].blocks:
                if block.type == "resource" and len(block.labels) >= 2:
                    self.resources.setdefault(block.labels[0], []).append(block)
                    self.by_address[block.address] = block
                elif block.type == "data" and len(block.labels) >= 2:
                    self.data.setdefault(block.labels[0], []).append(block)
                    self.by_address[block.address] = block
                elif block.type == "provider":
                    self.providers.append(block)
                elif block.type == "module":
                    self.module_calls.append(block)
                elif block.type == "variable":
                    self.variables.append(block)

    def of(self, resource_type: str) -> list[Block]:
        return self.resources.get(resource_type, [])

    def linked(self, resource_type: str, attribute: str, target: Block) -> list[Block]:
        """Resources of ``resource_type`` whose ``attribute`` points at ``target``."""
        names = {n for n in (target.get("bucket"), target.get("name")) if isinstance(n, str)}
        found = []
        for block in self.of(resource_type):
            value = block.get(attribute)
            if target.address in references(value) or (isinstance(value, str) and value in names):
                found.append(block)
            elif "each." in text_of(value) and target.address in references(
                block.get("for_each")
            ):
                # for_each = aws_s3_bucket.results / bucket = each.value.id: one companion
                # per bucket of a for_each (or this one bucket).
                found.append(block)
        return found


def _at(block: Block, attribute: str | None = None) -> Located:
    return Located(block.file, block.line_of(attribute) if attribute else block.line)


def _nested(block: Block, block_type: str) -> list[Block]:
    """Direct child blocks of a type, including ``dynamic "type" { content { ... } }``."""
    found = block.children(block_type)
    for dynamic in block.children("dynamic"):
        if dynamic.labels and dynamic.labels[0] == block_type:
            found.extend(dynamic.children("content"))
    return found


def _unknown(value: Any) -> bool:
    """A value Terraform computes (variable, reference, function call, conditional)."""
    return isinstance(value, Expr | Call) or (isinstance(value, str) and "${" in value)


def _falsy(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


# Attribute and variable names that hold credentials in Terraform (narrower than for env
# variables: `key` alone is an S3 object key, `kms_key_id` an identifier).
_TF_SECRET_NAME = re.compile(
    r"(password|passwd|passphrase|secret|token|api_?key|access_?key|private_?key|"
    r"connection_?string|auth_?key|sas_?key)",
    re.I,
)
_TF_NOT_SECRET = re.compile(
    r"(_arn|_id|_ids|_name|_version|_enabled|_rotation|_length|_lifetime|_ttl|_type|_path|"
    r"_file|_count|_policy|_wo_version|_prefix|_url|_uri|_location|_key_vault)$|^(enable|use)_",
    re.I,
)
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_REGISTRY_SOURCE = re.compile(r"^([a-z0-9.-]+\.[a-z]{2,}/)?[\w-]+/[\w-]+/[\w-]+$", re.I)
_GIT_PREFIXES = ("git::", "git@", "github.com/", "bitbucket.org/", "gitlab.com/")
_EXACT_VERSION = re.compile(r"^=?\s*v?\d+(\.\d+)*([-+][\w.]+)?$")


def module_source_problem(source: str, version: Any) -> tuple[Severity, str] | None:
    """Why a ``module`` call's code could change under the same configuration, if it can.

    Local paths are part of the repository; git sources need ``?ref=`` a full commit (a tag
    or branch can be moved); registry modules need an exact ``version``."""
    lowered = source.lower()
    if lowered.startswith(("./", "../", "/")) or lowered.startswith(("s3::", "gcs::")):
        return None
    if lowered.startswith(_GIT_PREFIXES) or lowered.split("?")[0].endswith(".git"):
        query = parse_qs(urlsplit(source.removeprefix("git::")).query)
        ref = (query.get("ref") or [""])[0]
        if not ref:
            return Severity.MEDIUM, (
                f"git source {redact_url(source)} has no ?ref=, so every init takes the "
                "default branch"
            )
        if not _COMMIT.match(ref.lower()):
            return Severity.LOW, f"git source is pinned to ref {ref}, a tag or branch that can move"
        return None
    if _REGISTRY_SOURCE.match(source):
        if version is None:
            return Severity.MEDIUM, (
                f"registry module {source} has no version, so init takes the newest"
            )
        text = text_of(version).strip()
        if not _EXACT_VERSION.match(text):
            return Severity.LOW, f"registry module {source} allows versions {text}, not one"
    return None


# --- policies ------------------------------------------------------------------------------------


@dataclass
class ResolvedPolicy:
    statements: list[Statement]
    from_data_source: bool  # the data source itself is checked for wildcards


def _document_statements(block: Block) -> list[Statement]:
    """Statements of a ``data "aws_iam_policy_document"`` block."""
    result = []
    for statement in _nested(block, "statement"):
        principals: list[tuple[str, tuple[str, ...]]] = []
        has_principal = False
        for kind in ("principals", "not_principals"):
            for principal in _nested(statement, kind):
                has_principal = True
                principal_type = text_of(principal.get("type", "AWS"))
                principals.append(
                    (principal_type, policy.strings(principal.get("identifiers")))
                )
        keys = tuple(
            text_of(condition.get("variable", "?")).lower()
            for condition in _nested(statement, "condition")
        )
        actions_line = statement.line_of("actions") if "actions" in statement.attributes else (
            statement.line_of("not_actions")
        )
        result.append(
            Statement(
                effect=text_of(statement.get("effect", "Allow")),
                actions=tuple(a.lower() for a in policy.strings(statement.get("actions"))),
                not_actions=tuple(a.lower() for a in policy.strings(statement.get("not_actions"))),
                resources=policy.strings(statement.get("resources")),
                not_resources="not_resources" in statement.attributes,
                principals=tuple(principals),
                has_principal=has_principal,
                condition_keys=keys,
                line=actions_line,
                sid=text_of(statement.get("sid", "")),
            )
        )
    return result


def _literal_statements(value: Any, line: int) -> list[Statement] | None:
    """Statements of a policy written in place (JSON string, heredoc or ``jsonencode``)."""
    if isinstance(value, Call) and value.name == "jsonencode" and value.args:
        return policy.statements_from_document(value.args[0], line)
    if isinstance(value, str) and value.lstrip().startswith("{"):
        document = policy.parse_json_policy(value)
        if document is not None:
            return [
                _with_line(s, line) for s in policy.statements_from_document(document, line)
            ]
    return None


def _with_line(statement: Statement, line: int) -> Statement:
    """JSON strings carry no lines of their own: point at the attribute."""
    from dataclasses import replace

    return replace(statement, line=line)


# --- the checks ----------------------------------------------------------------------------------

_S3_PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
_PAB_FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls",
              "restrict_public_buckets")
_OPEN_CIDRS = frozenset({"0.0.0.0/0", "::/0"})
_OPEN_AZURE_PREFIXES = frozenset({"*", "0.0.0.0/0", "0.0.0.0", "internet", "any", "::/0"})
_ADMIN_PORTS = frozenset({22, 23, 3389, 5432, 3306, 1433, 6379, 27017, 9200, 5601, 8888, 2375,
                          2376, 6443, 10250})
_LONG_LIVED_KEYS = {
    "aws_iam_access_key": "an IAM user access key",
    "ibm_iam_api_key": "an IBM Cloud user API key",
    "ibm_iam_service_api_key": "an IBM Cloud service ID API key",
    "azuread_application_password": "an Entra ID application client secret",
    "azuread_service_principal_password": "an Entra ID service principal client secret",
    "google_service_account_key": "a Google service account key",
}
_FEDERATION_HINT = {
    "aws_iam_access_key": "use an IAM role assumed through OIDC (GitHub Actions, GitLab) or IAM "
    "Identity Center",
    "ibm_iam_api_key": "use IBM Cloud trusted profiles with compute resource or OIDC federation",
    "ibm_iam_service_api_key": "use IBM Cloud trusted profiles with compute resource or OIDC "
    "federation",
    "azuread_application_password": "use a federated identity credential "
    "(azuread_application_federated_identity_credential)",
    "azuread_service_principal_password": "use a federated identity credential",
    "google_service_account_key": "use workload identity federation",
}
_IDENTITY_POLICY_RESOURCES = ("aws_iam_policy", "aws_iam_role_policy", "aws_iam_user_policy",
                              "aws_iam_group_policy")
_ATTACHMENTS = ("aws_iam_role_policy_attachment", "aws_iam_user_policy_attachment",
                "aws_iam_group_policy_attachment", "aws_iam_policy_attachment")
_QUANTUM_WORKSPACE_TYPES = ("azurerm_quantum_workspace",)
_CI_NAME_HINTS = ("ci", "cd", "deploy", "github", "gitlab", "pipeline", "runner", "actions",
                  "jenkins", "automation", "bot")


class _Checks:
    def __init__(self, module: Module) -> None:
        self.m = module
        self.default_tier = self._default_tier()
        self.quantum_storage = self._quantum_storage()

    def issues(self) -> Iterator[Issue]:
        yield from self._s3()
        yield from self._azure_storage()
        yield from self._ibm_cos()
        yield from self._kms()
        yield from self._identity_policies()
        yield from self._attachments()
        yield from self._roles()
        yield from self._long_lived_keys()
        yield from self._audit_trail()
        yield from self._retention()
        yield from self._ingress()
        yield from self._public_endpoints()
        yield from self._quantum_workspaces()
        yield from self._module_sources()
        yield from self._literal_secrets()

    # secrets -----------------------------------------------------------------------------------

    def _literal_secrets(self) -> Iterator[Issue]:
        """Passwords and tokens written into the configuration: they land in the repository
        and, in plain text, in every state file and plan."""
        for variable in self.m.variables:
            name = variable.labels[0] if variable.labels else ""
            default = variable.get("default")
            if _TF_SECRET_NAME.search(name) and not _TF_NOT_SECRET.search(name) and (
                literal_secret(default) and len(str(default)) >= 6
            ):
                yield self._secret_issue(f"variable \"{name}\"", variable, "default", default)
        for blocks in self.m.resources.values():
            for resource in blocks:
                for block in resource.walk():
                    for attribute, entry in block.attributes.items():
                        if not _TF_SECRET_NAME.search(attribute) or _TF_NOT_SECRET.search(
                            attribute
                        ):
                            continue
                        if literal_secret(entry.value) and len(str(entry.value)) >= 6:
                            yield self._secret_issue(
                                f"{resource.address} {attribute}", block, attribute, entry.value
                            )

    @staticmethod
    def _secret_issue(what: str, block: Block, attribute: str, value: Any) -> Issue:
        masked = mask(str(value))
        return iac_issue(
            "QG-IAC-021", _at(block, attribute),
            f"{what} holds a literal secret; it is stored in plain text in the repository, "
            "plans and state",
            f"secret:{what}:{masked}", evidence=f"{attribute} = {masked}",
        )

    # supply chain ------------------------------------------------------------------------------

    def _module_sources(self) -> Iterator[Issue]:
        for call in self.m.module_calls:
            source = call.get("source")
            if not isinstance(source, str):
                continue
            problem = module_source_problem(source, call.get("version"))
            if problem is not None:
                severity, why = problem
                yield iac_issue(
                    "QG-IAC-020", _at(call, "source"),
                    f"module \"{call.labels[0] if call.labels else '?'}\": {why}",
                    f"module-source:{source}:{text_of(call.get('version', ''))}",
                    severity, evidence=redact_url(source),
                )

    # shared lookups ----------------------------------------------------------------------------

    def _default_tier(self) -> Tier | None:
        for provider in self.m.providers:
            for default_tags in provider.children("default_tags"):
                tier = tier_from_tags(default_tags.get("tags"))
                if tier:
                    return tier
        return None

    def _tier(self, block: Block) -> Tier | None:
        return tier_from_tags(block.get("tags")) or self.default_tier

    def _quantum_workspaces_blocks(self) -> list[tuple[Block, Any]]:
        """(workspace block, its properties) for azapi and azurerm quantum workspaces."""
        found: list[tuple[Block, Any]] = []
        for block in self.m.of("azapi_resource"):
            kind = block.get("type")
            if isinstance(kind, str) and kind.lower().startswith("microsoft.quantum/workspaces"):
                body = block.get("body")
                if isinstance(body, Call) and body.name == "jsonencode" and body.args:
                    body = body.args[0]
                properties = body.get("properties") if isinstance(body, dict) else None
                found.append((block, properties if isinstance(properties, dict) else {}))
        for resource_type in _QUANTUM_WORKSPACE_TYPES:
            found.extend((block, {}) for block in self.m.of(resource_type))
        return found

    def _quantum_storage(self) -> set[str]:
        addresses: set[str] = set()
        for block, properties in self._quantum_workspaces_blocks():
            addresses.update(references(properties.get("storageAccount")))
            addresses.update(references(block.get("storage_account")))
            addresses.update(references(block.get("storage_account_id")))
        return addresses

    def resolve_policy(self, value: Any, line: int) -> ResolvedPolicy | None:
        literal = _literal_statements(value, line)
        if literal is not None:
            return ResolvedPolicy(literal, False)
        for address in references(value):
            block = self.m.by_address.get(address)
            if block is not None and block.type == "data" and (
                block.labels[0] == "aws_iam_policy_document"
            ):
                return ResolvedPolicy(_document_statements(block), True)
            if block is not None and block.type == "resource" and (
                block.labels[0] == "aws_iam_policy"
            ):
                inner = _literal_statements(block.get("policy"), block.line_of("policy"))
                if inner is not None:
                    return ResolvedPolicy(inner, True)
        return None

    # storage -----------------------------------------------------------------------------------

    def _s3(self) -> Iterator[Issue]:
        m = self.m
        account_pab = any(
            all(truthy(block.get(flag)) for flag in _PAB_FLAGS)
            for block in m.of("aws_s3_account_public_access_block")
        )
        trail_s3_events = any(
            "AWS::S3::Object" in repr(_trail_selectors(trail)) for trail in m.of("aws_cloudtrail")
        )
        log_targets: set[str] = set()
        for logging in m.of("aws_s3_bucket_logging"):
            log_targets.update(references(logging.get("target_bucket")))
            if isinstance(logging.get("target_bucket"), str):
                log_targets.add(str(logging.get("target_bucket")))
        for bucket in m.of("aws_s3_bucket"):
            for inline in _nested(bucket, "logging"):
                log_targets.update(references(inline.get("target_bucket")))
                if isinstance(inline.get("target_bucket"), str):
                    log_targets.add(str(inline.get("target_bucket")))
        for bucket in m.of("aws_s3_bucket"):
            name = bucket.get("bucket") or bucket.get("bucket_prefix")
            name_text = name if isinstance(name, str) else ""
            facts = StorageFacts(
                address=bucket.address,
                at=_at(bucket),
                tier=self._tier(bucket),
                braket=name_text.lower().startswith(BRAKET_BUCKET_PREFIX),
                check_public_access_block=True,
                check_tls_only=True,
            )
            self._s3_encryption(bucket, facts)
            self._s3_public(bucket, facts)
            if not account_pab:
                self._s3_public_access_block(bucket, facts)
            self._s3_versioning(bucket, facts)
            facts.logging = trail_s3_events or bool(_nested(bucket, "logging")) or bool(
                m.linked("aws_s3_bucket_logging", "bucket", bucket)
            )
            facts.logging_exempt = bucket.address in log_targets or (
                bool(name_text) and name_text in log_targets
            ) or bucket.get("acl") == "log-delivery-write"
            facts.lifecycle = bool(_nested(bucket, "lifecycle_rule")) or bool(
                m.linked("aws_s3_bucket_lifecycle_configuration", "bucket", bucket)
            )
            yield from storage_issues(facts)

    def _s3_encryption(self, bucket: Block, facts: StorageFacts) -> None:
        configs: list[Block] = list(_nested(bucket, "server_side_encryption_configuration"))
        configs.extend(
            self.m.linked("aws_s3_bucket_server_side_encryption_configuration", "bucket", bucket)
        )
        for config in configs:
            for rule in _nested(config, "rule"):
                for default in _nested(rule, "apply_server_side_encryption_by_default"):
                    algorithm = text_of(default.get("sse_algorithm", ""))
                    key = default.get("kms_master_key_id")
                    facts.encryption = algorithm
                    facts.encryption_at = Located(default.file, default.line_of("sse_algorithm"))
                    facts.customer_key = algorithm.startswith("aws:kms") and bool(
                        key not in (None, "") and text_of(key) != "alias/aws/s3"
                    )
                    return
            if facts.encryption is None:
                facts.encryption = ""
                facts.encryption_at = _at(config)

    def _s3_public(self, bucket: Block, facts: StorageFacts) -> None:
        acl = bucket.get("acl")
        if isinstance(acl, str) and acl in _S3_PUBLIC_ACLS:
            facts.public.append((_at(bucket, "acl"), f"acl = \"{acl}\""))
        for acl_block in self.m.linked("aws_s3_bucket_acl", "bucket", bucket):
            value = acl_block.get("acl")
            if isinstance(value, str) and value in _S3_PUBLIC_ACLS:
                facts.public.append(
                    (_at(acl_block, "acl"), f"{acl_block.address} sets acl = \"{value}\"")
                )
            for control in acl_block.children("access_control_policy"):
                for grant in control.children("grant"):
                    text = repr([g.attributes for g in grant.children("grantee")])
                    if "AllUsers" in text or "AuthenticatedUsers" in text:
                        facts.public.append(
                            (Located(grant.file, grant.line),
                             f"{acl_block.address} grants access to all users")
                        )
        policies = [(bucket, bucket.get("policy"))] if bucket.get("policy") is not None else []
        policies.extend(
            (block, block.get("policy"))
            for block in self.m.linked("aws_s3_bucket_policy", "bucket", bucket)
        )
        for owner, value in policies:
            resolved = self.resolve_policy(value, owner.line_of("policy"))
            if resolved is None:
                # A policy we cannot read (built elsewhere) may well deny plain HTTP; do not
                # claim it does not.
                facts.tls_only = True
                continue
            if any(policy.denies_insecure_transport(s) for s in resolved.statements):
                facts.tls_only = True
            for statement in resolved.statements:
                if policy.is_public(statement):
                    where = owner.address if owner is not bucket else "its policy"
                    facts.public.append(
                        (_at(owner, "policy"),
                         f"{where} allows Principal \"*\" ({', '.join(statement.actions[:3])}) "
                         "with no condition")
                    )
                    break

    def _s3_public_access_block(self, bucket: Block, facts: StorageFacts) -> None:
        blocks = self.m.linked("aws_s3_bucket_public_access_block", "bucket", bucket)
        if not blocks:
            facts.public_access_block_missing = list(_PAB_FLAGS)
            return
        block = blocks[0]
        missing = [
            flag for flag in _PAB_FLAGS
            if not truthy(block.get(flag)) and not _unknown(block.get(flag))
        ]
        if missing:
            facts.public_access_block_missing = missing
            facts.public_access_block_at = _at(block)

    def _s3_versioning(self, bucket: Block, facts: StorageFacts) -> None:
        for inline in _nested(bucket, "versioning"):
            enabled = inline.get("enabled")
            facts.versioning = True if _unknown(enabled) else truthy(enabled)
            facts.versioning_at = None if facts.versioning else _at(inline)
        for block in self.m.linked("aws_s3_bucket_versioning", "bucket", bucket):
            for config in block.children("versioning_configuration"):
                status = text_of(config.get("status", ""))
                facts.versioning = status == "Enabled"
                facts.versioning_at = None if facts.versioning else Located(
                    config.file, config.line_of("status")
                )

    def _azure_storage(self) -> Iterator[Issue]:
        m = self.m
        for account in m.of("azurerm_storage_account"):
            quantum = account.address in self.quantum_storage
            facts = StorageFacts(
                address=account.address,
                at=_at(account),
                label="storage account",
                tier=self._tier(account),
                quantum=quantum,
                always_encrypted=True,
                encryption="Microsoft-managed",
                cmk_hint="a customer-managed key (customer_managed_key block or "
                "azurerm_storage_account_customer_managed_key)",
            )
            facts.customer_key = bool(account.children("customer_managed_key")) or bool(
                m.linked("azurerm_storage_account_customer_managed_key", "storage_account_id",
                         account)
            )
            for flag in ("allow_nested_items_to_be_public", "allow_blob_public_access"):
                if truthy(account.get(flag)):
                    facts.public.append((_at(account, flag), f"{flag} = true"))
            containers = m.linked("azurerm_storage_container", "storage_account_name", account)
            containers += m.linked("azurerm_storage_container", "storage_account_id", account)
            for container in containers:
                access = container.get("container_access_type")
                if isinstance(access, str) and access in {"blob", "container"}:
                    facts.public.append(
                        (_at(container, "container_access_type"),
                         f"{container.address} has container_access_type = \"{access}\"")
                    )
            versioning = [b.get("versioning_enabled") for b in account.children("blob_properties")]
            facts.versioning = any(truthy(v) for v in versioning) or None
            facts.check_versioning = facts.job_data
            facts.logging = any(
                account.address in references(d.get("target_resource_id"))
                for d in m.of("azurerm_monitor_diagnostic_setting")
            )
            facts.check_logging = facts.job_data
            facts.lifecycle = bool(
                m.linked("azurerm_storage_management_policy", "storage_account_id", account)
            )
            yield from storage_issues(facts)
            yield from self._azure_storage_access(account, facts)

    def _azure_storage_access(self, account: Block, facts: StorageFacts) -> Iterator[Issue]:
        address, why = account.address, facts.why()
        elevated = facts.job_data
        public_network = account.get("public_network_access_enabled")
        denied = any(
            text_of(rules.get("default_action", "")).lower() == "deny"
            for rules in account.children("network_rules")
        ) or any(
            text_of(rules.get("default_action", "")).lower() == "deny"
            for rules in self.m.linked("azurerm_storage_account_network_rules",
                                       "storage_account_id", account)
        )
        if not _falsy(public_network) and not denied:
            state = "is true" if public_network is not None else "is not set (default true)"
            yield iac_issue(
                "QG-IAC-016", _at(account, "public_network_access_enabled"),
                f"{address}{why}: public_network_access_enabled {state} and network rules do "
                "not deny by default; reach it through a private endpoint",
                f"{address}:public-network", None if elevated else Severity.LOW,
            )
        tls = account.get("min_tls_version")
        if isinstance(tls, str) and tls.upper() in {"TLS1_0", "TLS1_1"}:
            yield iac_issue(
                "QG-IAC-017", _at(account, "min_tls_version"),
                f"{address}{why} accepts {tls}; require TLS1_2",
                f"{address}:tls:{tls}",
            )
        for flag in ("https_traffic_only_enabled", "enable_https_traffic_only"):
            if _falsy(account.get(flag)):
                yield iac_issue(
                    "QG-IAC-017", _at(account, flag),
                    f"{address}{why} accepts plain HTTP ({flag} = false)",
                    f"{address}:http",
                )
        shared = account.get("shared_access_key_enabled")
        if not _falsy(shared):
            state = "is true" if shared is not None else "is not set (default true)"
            yield iac_issue(
                "QG-IAC-018", _at(account, "shared_access_key_enabled"),
                f"{address}{why}: shared_access_key_enabled {state}, so account keys and SAS "
                "tokens work alongside Entra ID",
                f"{address}:shared-key", None if elevated or facts.regulated else Severity.LOW,
            )

    def _ibm_cos(self) -> Iterator[Issue]:
        m = self.m
        public_groups = {
            block.address for block in m.data.get("ibm_iam_access_group", [])
            if text_of(block.get("access_group_name", "")).lower() == "public access"
        }
        public_policies = [
            block for block in m.of("ibm_iam_access_group_policy")
            if public_groups & references(block.get("access_group_id"))
        ]
        for bucket in m.of("ibm_cos_bucket"):
            tier = self._tier(bucket)
            instance_refs = references(bucket.get("resource_instance_id"))
            for address in instance_refs:
                instance = m.by_address.get(address)
                if instance is not None and tier is None:
                    tier = tier_from_tags(instance.get("tags"))
            facts = StorageFacts(
                address=bucket.address, at=_at(bucket), tier=tier, always_encrypted=True,
                encryption="IBM-managed",
                cmk_hint="a Key Protect or Hyper Protect Crypto Services key (kms_key_crn)",
            )
            facts.customer_key = any(
                bucket.get(k) not in (None, "") for k in ("kms_key_crn", "key_protect")
            )
            for access in public_policies:
                mentioned = _block_references(access)
                if bucket.address in mentioned or instance_refs & mentioned:
                    facts.public.append(
                        (_at(access), f"{access.address} grants the Public Access group access")
                    )
            facts.versioning = any(
                truthy(b.get("enable")) for b in bucket.children("object_versioning")
            ) or None
            facts.check_versioning = facts.job_data
            facts.check_logging = False
            facts.lifecycle = bool(
                bucket.children("expire_rule") or bucket.children("archive_rule")
                or m.linked("ibm_cos_bucket_lifecycle_configuration", "bucket_crn", bucket)
            )
            yield from storage_issues(facts)

    # keys --------------------------------------------------------------------------------------

    def _kms(self) -> Iterator[Issue]:
        m = self.m
        for key in m.of("aws_kms_key"):
            spec = text_of(key.get("customer_master_key_spec") or key.get("key_spec") or
                           "SYMMETRIC_DEFAULT")
            rotation = key.get("enable_key_rotation")
            if _unknown(rotation):
                pass  # set from a variable or expression: not knowable here, so no claim
            elif spec == "SYMMETRIC_DEFAULT" and not truthy(rotation):
                state = "is false" if rotation is not None else "is not set (default false)"
                yield iac_issue(
                    "QG-IAC-007", _at(key, "enable_key_rotation"),
                    f"{key.address}: enable_key_rotation {state}",
                    f"{key.address}:rotation",
                )
            owners: list[Block] = [key] if key.get("policy") is not None else []
            owners += m.linked("aws_kms_key_policy", "key_id", key)
            for owner in owners:
                yield from self._key_policy(key, owner)
        for key in m.of("azurerm_key_vault_key"):
            if not key.children("rotation_policy"):
                yield iac_issue(
                    "QG-IAC-007", _at(key),
                    f"{key.address} has no rotation_policy, so the key is never rotated",
                    f"{key.address}:rotation",
                )

    def _key_policy(self, key: Block, owner: Block) -> Iterator[Issue]:
        line = owner.line_of("policy")
        resolved = self.resolve_policy(owner.get("policy"), line)
        if resolved is None:
            return
        place = _at(owner, "policy")
        for principal, _line in policy.admin_and_user(resolved.statements):
            yield iac_issue(
                "QG-IAC-008", place,
                f"{key.address}: key policy lets {principal} both administer and use the key "
                "(for example kms:* or key-policy changes together with Decrypt)",
                f"{key.address}:admin-user:{principal}",
                evidence=principal[:120],
            )
        for statement in resolved.statements:
            if policy.is_public(statement):
                yield iac_issue(
                    "QG-IAC-003", place,
                    f"{key.address}: key policy allows Principal \"*\" with no condition",
                    f"{key.address}:public-key-policy",
                )
                break

    # identity ----------------------------------------------------------------------------------

    def _identity_policies(self) -> Iterator[Issue]:
        m = self.m
        for document in m.data.get("aws_iam_policy_document", []):
            for statement in _document_statements(document):
                yield from self._wildcard(document.address, document.file, statement)
        for resource_type in _IDENTITY_POLICY_RESOURCES:
            for block in m.of(resource_type):
                value = block.get("policy")
                statements = _literal_statements(value, block.line_of("policy"))
                for statement in statements or []:
                    yield from self._wildcard(block.address, block.file, statement)
        for role in m.of("aws_iam_role"):
            for inline in role.children("inline_policy"):
                statements = _literal_statements(inline.get("policy"), inline.line_of("policy"))
                for statement in statements or []:
                    yield from self._wildcard(role.address, role.file, statement)

    def _wildcard(self, address: str, file: str, statement: Statement) -> Iterator[Issue]:
        grant = policy.wildcard_grant(statement)
        if grant is None:
            return
        sid = f" (Sid {statement.sid})" if statement.sid else ""
        yield iac_issue(
            "QG-IAC-009", Located(file, statement.line),
            f"{address}{sid} grants {grant.text}",
            f"{address}:{grant.text}", grant.severity, evidence=grant.text,
        )

    def _attachments(self) -> Iterator[Issue]:
        for resource_type in _ATTACHMENTS:
            for block in self.m.of(resource_type):
                arn = block.get("policy_arn")
                name = policy.managed_policy_name(arn) if isinstance(arn, str) else ""
                if name in policy.ADMIN_MANAGED_POLICIES:
                    yield iac_issue(
                        "QG-IAC-009", _at(block, "policy_arn"),
                        f"{block.address} attaches the AWS managed policy {arn.rsplit('/', 1)[-1]}",
                        f"{block.address}:{name}",
                    )
        for role in self.m.of("aws_iam_role"):
            for arn in _as_list(role.get("managed_policy_arns")):
                name = policy.managed_policy_name(arn) if isinstance(arn, str) else ""
                if name in policy.ADMIN_MANAGED_POLICIES:
                    yield iac_issue(
                        "QG-IAC-009", _at(role, "managed_policy_arns"),
                        f"{role.address} attaches the AWS managed policy {arn.rsplit('/', 1)[-1]}",
                        f"{role.address}:{name}",
                    )

    def _roles(self) -> Iterator[Issue]:
        for role in self.m.of("aws_iam_role"):
            trust = self.resolve_policy(role.get("assume_role_policy"),
                                        role.line_of("assume_role_policy"))
            if trust is None:
                continue
            for statement in trust.statements:
                grant = policy.trust_issue(statement)
                if grant is not None:
                    yield iac_issue(
                        "QG-IAC-011", _at(role, "assume_role_policy"),
                        f"{role.address}: trust policy is open: {grant.text}",
                        f"{role.address}:trust:{grant.text}", grant.severity,
                    )
                    break
            if "braket.amazonaws.com" in policy.trusted_services(trust.statements):
                yield from self._braket_role(role)

    def _braket_role(self, role: Block) -> Iterator[Issue]:
        """A role Amazon Braket jobs assume, checked for broad permissions from any source."""
        sources: list[tuple[str, Any, int]] = [
            (f"{role.address} inline_policy", inline.get("policy"), inline.line_of("policy"))
            for inline in role.children("inline_policy")
        ]
        for resource_type in ("aws_iam_role_policy",):
            sources.extend(
                (block.address, block.get("policy"), block.line_of("policy"))
                for block in self.m.linked(resource_type, "role", role)
            )
        admin: list[str] = []
        arns: list[tuple[str, Any]] = [
            (role.address, arn) for arn in _as_list(role.get("managed_policy_arns"))
        ]
        arns.extend(
            (block.address, block.get("policy_arn"))
            for block in self.m.linked("aws_iam_role_policy_attachment", "role", role)
        )
        for origin, arn in arns:
            if isinstance(arn, str):
                name = policy.managed_policy_name(arn)
                if name in policy.ADMIN_MANAGED_POLICIES:
                    admin.append(f"{arn.rsplit('/', 1)[-1]} via {origin}")
                continue
            for address in references(arn):
                target = self.m.by_address.get(address)
                if target is not None and target.labels[0] == "aws_iam_policy":
                    sources.append((target.address, target.get("policy"),
                                    target.line_of("policy")))
        broad: list[str] = []
        for origin, value, line in sources:
            resolved = self.resolve_policy(value, line)
            for statement in resolved.statements if resolved else []:
                grant = policy.wildcard_grant(statement)
                if grant is not None:
                    broad.append(f"{grant.text} via {origin}")
        if admin or broad:
            detail = "; ".join([*admin, *broad][:3])
            yield iac_issue(
                "QG-IAC-012", _at(role),
                f"Amazon Braket job role {role.address} (trusted by braket.amazonaws.com) has "
                f"broad permissions: {detail}",
                f"{role.address}:braket-role:{detail}",
            )

    def _long_lived_keys(self) -> Iterator[Issue]:
        for resource_type, what in _LONG_LIVED_KEYS.items():
            for block in self.m.of(resource_type):
                owner = block.get("user") or block.get("iam_service_id") or block.get(
                    "application_id") or block.get("service_account_id")
                owner_text = text_of(owner) if owner is not None else ""
                ci = any(hint in owner_text.lower() or hint in block.labels[1].lower()
                         for hint in _CI_NAME_HINTS)
                who = f" for {owner_text}" if owner_text else ""
                ci_note = " (looks like a CI identity)" if ci else ""
                yield iac_issue(
                    "QG-IAC-010", _at(block),
                    f"{block.address} creates {what}{who}{ci_note}: a long-lived credential; "
                    f"{_FEDERATION_HINT[resource_type]}",
                    f"{block.address}:long-lived-key",
                )

    # logging -----------------------------------------------------------------------------------

    def _braket_markers(self) -> dict[str, tuple[int, str]]:
        """First Amazon Braket marker per file: (line, what)."""
        markers: dict[str, tuple[int, str]] = {}

        def note(block: Block, line: int, what: str) -> None:
            current = markers.get(block.file)
            if current is None or line < current[0]:
                markers[block.file] = (line, what)

        for bucket in self.m.of("aws_s3_bucket"):
            name = bucket.get("bucket") or bucket.get("bucket_prefix")
            if isinstance(name, str) and name.lower().startswith(BRAKET_BUCKET_PREFIX):
                note(bucket, bucket.line, f"Braket result bucket {bucket.address}")
        for role in self.m.of("aws_iam_role"):
            trust = self.resolve_policy(role.get("assume_role_policy"),
                                        role.line_of("assume_role_policy"))
            if trust and "braket.amazonaws.com" in policy.trusted_services(trust.statements):
                note(role, role.line, f"Braket job role {role.address}")
        for document in self.m.data.get("aws_iam_policy_document", []):
            if any(a.startswith("braket:") for s in _document_statements(document)
                   for a in s.actions):
                note(document, document.line, f"Braket permissions in {document.address}")
        for resource_type in _IDENTITY_POLICY_RESOURCES:
            for block in self.m.of(resource_type):
                statements = _literal_statements(block.get("policy"), block.line) or []
                if any(a.startswith("braket:") for s in statements for a in s.actions):
                    note(block, block.line, f"Braket permissions in {block.address}")
        return markers

    def _audit_trail(self) -> Iterator[Issue]:
        if not self.m.of("aws_cloudtrail"):
            for file, (line, what) in sorted(self._braket_markers().items()):
                yield iac_issue(
                    "QG-IAC-013", Located(file, line),
                    f"{what} is defined but this module has no aws_cloudtrail: Braket API calls "
                    "(CreateQuantumTask, job submissions) are only kept 90 days in event history",
                    f"{posixpath.basename(file)}:no-cloudtrail",
                )
        settings = self.m.of("azurerm_monitor_diagnostic_setting")
        for workspace, _properties in self._quantum_workspaces_blocks():
            covered = any(
                workspace.address in references(s.get("target_resource_id")) for s in settings
            )
            if not covered:
                yield iac_issue(
                    "QG-IAC-013", _at(workspace),
                    f"Azure Quantum workspace {workspace.address} has no "
                    "azurerm_monitor_diagnostic_setting sending its logs to a retained store",
                    f"{workspace.address}:no-diagnostics",
                )

    def _retention(self) -> Iterator[Issue]:
        for group in self.m.of("aws_cloudwatch_log_group"):
            days = group.get("retention_in_days")
            if days is None:
                yield iac_issue(
                    "QG-IAC-014", _at(group),
                    f"{group.address} declares no retention_in_days (kept forever, outside any "
                    "stated retention policy)",
                    f"{group.address}:retention:unset", Severity.LOW,
                )
            elif isinstance(days, int) and 0 < days < 90:
                yield iac_issue(
                    "QG-IAC-014", _at(group, "retention_in_days"),
                    f"{group.address} keeps logs only {days} days (policy minimum 90)",
                    f"{group.address}:retention:{days}",
                )
        for workspace in self.m.of("azurerm_log_analytics_workspace"):
            days = workspace.get("retention_in_days")
            if days is None or (isinstance(days, int) and days < 90):
                shown = "is not set (default 30 days)" if days is None else f"is {days} days"
                yield iac_issue(
                    "QG-IAC-014", _at(workspace, "retention_in_days"),
                    f"{workspace.address}: retention_in_days {shown} (policy minimum 90)",
                    f"{workspace.address}:retention:{days}",
                )
        for setting in self.m.of("azurerm_monitor_diagnostic_setting"):
            for block in setting.walk():
                if block.type != "retention_policy" or not truthy(block.get("enabled")):
                    continue
                days = block.get("days")
                if isinstance(days, int) and 0 < days < 90:
                    yield iac_issue(
                        "QG-IAC-014", Located(block.file, block.line_of("days")),
                        f"{setting.address} keeps diagnostic logs only {days} days "
                        "(policy minimum 90)",
                        f"{setting.address}:retention:{days}",
                    )

    # network -----------------------------------------------------------------------------------

    def _ingress(self) -> Iterator[Issue]:
        m = self.m
        for group in m.of("aws_security_group"):
            for rule in _nested(group, "ingress"):
                yield from self._aws_rule(group.address, rule, rule.get("cidr_blocks"),
                                          rule.get("ipv6_cidr_blocks"))
        for rule in m.of("aws_security_group_rule"):
            if text_of(rule.get("type", "")) == "ingress":
                yield from self._aws_rule(rule.address, rule, rule.get("cidr_blocks"),
                                          rule.get("ipv6_cidr_blocks"))
        for rule in m.of("aws_vpc_security_group_ingress_rule"):
            yield from self._aws_rule(rule.address, rule, rule.get("cidr_ipv4"),
                                      rule.get("cidr_ipv6"), protocol_key="ip_protocol")
        rules: list[tuple[str, Block]] = [
            (r.address, r) for r in m.of("azurerm_network_security_rule")
        ]
        for group in m.of("azurerm_network_security_group"):
            rules.extend((group.address, r) for r in _nested(group, "security_rule"))
        for address, rule in rules:
            if text_of(rule.get("direction", "")).lower() != "inbound" or (
                text_of(rule.get("access", "")).lower() != "allow"
            ):
                continue
            prefixes = [text_of(p) for p in _as_list(rule.get("source_address_prefix"))]
            prefixes += [text_of(p) for p in _as_list(rule.get("source_address_prefixes"))]
            open_prefix = next((p for p in prefixes if p.lower() in _OPEN_AZURE_PREFIXES), None)
            if open_prefix is not None:
                ports = [text_of(p) for p in _as_list(rule.get("destination_port_range"))]
                ports += [text_of(p) for p in _as_list(rule.get("destination_port_ranges"))]
                attribute = "source_address_prefix" if "source_address_prefix" in (
                    rule.attributes) else "source_address_prefixes"
                yield self._open_issue(address, rule, attribute, _port_spans(ports),
                                       f"any source ({open_prefix})")
        for rule in m.of("ibm_is_security_group_rule"):
            if text_of(rule.get("direction", "")) == "inbound" and text_of(
                rule.get("remote", "")
            ) in _OPEN_CIDRS:
                spans: list[tuple[int, int]] = []
                for proto in ("tcp", "udp"):
                    for block in rule.children(proto):
                        low = block.get("port_min", 1)
                        high = block.get("port_max", 65535)
                        if isinstance(low, int) and isinstance(high, int):
                            spans.append((low, high))
                if not rule.children("tcp") and not rule.children("udp"):
                    spans = [(0, 65535)]
                yield self._open_issue(rule.address, rule, "remote", spans,
                                       str(rule.get("remote")))

    def _aws_rule(
        self, address: str, rule: Block, ipv4: Any, ipv6: Any, protocol_key: str = "protocol"
    ) -> Iterator[Issue]:
        open_sources = [c for c in [*_as_list(ipv4), *_as_list(ipv6)]
                        if isinstance(c, str) and c in _OPEN_CIDRS]
        if not open_sources:
            return
        protocol = text_of(rule.get(protocol_key, "tcp")).lower()
        low, high = as_int(rule.get("from_port")), as_int(rule.get("to_port"))
        if protocol in {"-1", "all"}:
            spans = [(0, 65535)]
        elif low is not None and high is not None:
            spans = [(low, high)]
        else:
            spans = [(0, 65535)]  # unknown (a variable): assume the worst, say which
        attribute = "cidr_blocks" if "cidr_blocks" in rule.attributes else (
            "ipv6_cidr_blocks" if "ipv6_cidr_blocks" in rule.attributes else
            ("cidr_ipv4" if "cidr_ipv4" in rule.attributes else "cidr_ipv6")
        )
        yield self._open_issue(address, rule, attribute, spans, ", ".join(open_sources))

    def _open_issue(
        self, address: str, rule: Block, attribute: str, spans: list[tuple[int, int]],
        source: str,
    ) -> Issue:
        ports = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans) or "all ports"
        everything = any(a <= 1 and b >= 65535 for a, b in spans) or not spans
        admin = any(a <= port <= b for a, b in spans for port in _ADMIN_PORTS)
        web_only = spans and all(a == b and a in {80, 443} for a, b in spans)
        severity = Severity.MEDIUM if web_only and not (everything or admin) else None
        return iac_issue(
            "QG-IAC-015", _at(rule, attribute),
            f"{address} allows inbound traffic from {source} to port(s) {ports}",
            f"{address}:ingress:{source}:{ports}", severity,
            evidence=f"{source} -> {ports}",
        )

    def _public_endpoints(self) -> Iterator[Issue]:
        for notebook in self.m.of("aws_sagemaker_notebook_instance"):
            access = notebook.get("direct_internet_access")
            if text_of(access) != "Disabled":
                state = f"= \"{access}\"" if access is not None else "is not set (default Enabled)"
                yield iac_issue(
                    "QG-IAC-016", _at(notebook, "direct_internet_access"),
                    f"{notebook.address}: direct_internet_access {state}; notebooks (including "
                    "Braket notebooks) should reach AWS through VPC endpoints",
                    f"{notebook.address}:direct-internet",
                )
        for resource_type in ("aws_db_instance", "aws_rds_cluster_instance"):
            for database in self.m.of(resource_type):
                if truthy(database.get("publicly_accessible")):
                    yield iac_issue(
                        "QG-IAC-016", _at(database, "publicly_accessible"),
                        f"{database.address} is publicly_accessible",
                        f"{database.address}:public-db", Severity.HIGH,
                    )

    def _quantum_workspaces(self) -> Iterator[Issue]:
        for workspace, properties in self._quantum_workspaces_blocks():
            enabled = properties.get("apiKeyEnabled")
            if truthy(enabled):
                line = properties.line_of("apiKeyEnabled") if hasattr(properties, "line_of") else 0
                yield iac_issue(
                    "QG-IAC-018", Located(workspace.file, line or workspace.line),
                    f"Azure Quantum workspace {workspace.address} enables access keys "
                    "(apiKeyEnabled = true); use Entra ID identities",
                    f"{workspace.address}:api-keys",
                )


def _block_references(block: Block) -> set[str]:
    found: set[str] = set()
    for inner in block.walk():
        for attribute in inner.attributes.values():
            found.update(references(attribute.value))
    return found


def _trail_selectors(trail: Block) -> list[Any]:
    found: list[Any] = []
    for selector in [*trail.children("event_selector"), *trail.children("advanced_event_selector")]:
        for block in selector.walk():
            found.extend(block.attributes.values())
    return found


def _port_spans(ports: Iterable[str]) -> list[tuple[int, int]]:
    spans = []
    for port in ports:
        port = port.strip()
        if port in {"*", ""}:
            spans.append((0, 65535))
            continue
        low, _, high = port.partition("-")
        try:
            spans.append((int(low), int(high or low)))
        except ValueError:
            spans.append((0, 65535))
    return spans or [(0, 65535)]


# --- the detector --------------------------------------------------------------------------------


class TerraformDetector(ModuleDetector):
    name = "terraform"
    kinds = frozenset({FileKind.TERRAFORM})
    rules = IAC_RULES

    def module_of(self, source: SourceFile) -> str | None:
        if not source.name.lower().endswith(_MODULE_SUFFIXES):
            return None  # .tfvars / .tfvars.json: values only, checked on their own
        return posixpath.dirname(source.path)

    def admit(self, source: SourceFile) -> None:
        source.hcl  # noqa: B018 - parsing is the admission check: garbage is reported

    def scan_module(self, sources: Sequence[SourceFile]) -> Iterator[Issue]:
        files = {s.path: s.hcl for s in sources if s.name.lower().endswith(_MODULE_SUFFIXES)}
        if files:
            yield from _Checks(Module(files)).issues()

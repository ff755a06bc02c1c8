"""Storage that holds quantum job data: S3 buckets, Azure storage accounts, IBM COS buckets.

Each bucket or account becomes a ``StorageFacts`` (gathered from the resource and its
companion resources anywhere in the module) and ``iac_common.storage_issues`` decides, the
same way as for CloudFormation. Azure storage accounts are also checked for network access,
TLS and shared keys. Rule metadata: ``scanner/rules/iac.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scanner.detectors import aws_policy as policy
from scanner.detectors.iac_common import (
    Located,
    StorageFacts,
    iac_issue,
    storage_issues,
    tier_from_tags,
    truthy,
)
from scanner.detectors.terraform.module import (
    Module,
    at,
    braket_bucket,
    bucket_name,
    falsy,
    nested,
    unknown,
)
from scanner.detectors.terraform.policies import resolve_policy
from scanner.formats.hcl import Block, references, text_of
from scanner.model import Issue, Severity

_S3_PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
_PAB_FLAGS = ("block_public_acls", "block_public_policy", "ignore_public_acls",
              "restrict_public_buckets")


def issues(m: Module) -> Iterator[Issue]:
    yield from _s3(m)
    yield from _azure_storage(m)
    yield from _ibm_cos(m)


# --- S3 ------------------------------------------------------------------------------------------


def _s3(m: Module) -> Iterator[Issue]:
    account_pab = any(
        all(truthy(block.get(flag)) for flag in _PAB_FLAGS)
        for block in m.of("aws_s3_account_public_access_block")
    )
    trail_s3_events = any(
        "AWS::S3::Object" in repr(_trail_selectors(trail)) for trail in m.of("aws_cloudtrail")
    )
    log_targets = _s3_log_targets(m)
    for bucket in m.of("aws_s3_bucket"):
        name = bucket_name(bucket)
        facts = StorageFacts(
            address=bucket.address,
            at=at(bucket),
            tier=m.tier(bucket),
            configured_tier=m.configured_tier,
            braket=braket_bucket(bucket),
            check_public_access_block=True,
            check_tls_only=True,
        )
        _s3_encryption(m, bucket, facts)
        _s3_public(m, bucket, facts)
        if not account_pab:
            _s3_public_access_block(m, bucket, facts)
        _s3_versioning(m, bucket, facts)
        facts.logging = trail_s3_events or bool(nested(bucket, "logging")) or bool(
            m.linked("aws_s3_bucket_logging", "bucket", bucket)
        )
        facts.logging_exempt = bucket.address in log_targets or (
            bool(name) and name in log_targets
        ) or bucket.get("acl") == "log-delivery-write"
        facts.lifecycle = bool(nested(bucket, "lifecycle_rule")) or bool(
            m.linked("aws_s3_bucket_lifecycle_configuration", "bucket", bucket)
        )
        yield from storage_issues(facts)


def _s3_log_targets(m: Module) -> set[str]:
    """Buckets (addresses or literal names) that receive access logs: they need none."""
    configs = list(m.of("aws_s3_bucket_logging"))
    configs.extend(
        inline for bucket in m.of("aws_s3_bucket") for inline in nested(bucket, "logging")
    )
    targets: set[str] = set()
    for config in configs:
        target = config.get("target_bucket")
        targets.update(references(target))
        if isinstance(target, str):
            targets.add(target)
    return targets


def _trail_selectors(trail: Block) -> list[Any]:
    found: list[Any] = []
    for selector in [*trail.children("event_selector"), *trail.children("advanced_event_selector")]:
        for block in selector.walk():
            found.extend(block.attributes.values())
    return found


def _s3_encryption(m: Module, bucket: Block, facts: StorageFacts) -> None:
    configs: list[Block] = list(nested(bucket, "server_side_encryption_configuration"))
    configs.extend(
        m.linked("aws_s3_bucket_server_side_encryption_configuration", "bucket", bucket)
    )
    for config in configs:
        for rule in nested(config, "rule"):
            for default in nested(rule, "apply_server_side_encryption_by_default"):
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
            facts.encryption_at = at(config)


def _s3_public(m: Module, bucket: Block, facts: StorageFacts) -> None:
    acl = bucket.get("acl")
    if isinstance(acl, str) and acl in _S3_PUBLIC_ACLS:
        facts.public.append((at(bucket, "acl"), f"acl = \"{acl}\""))
    for acl_block in m.linked("aws_s3_bucket_acl", "bucket", bucket):
        value = acl_block.get("acl")
        if isinstance(value, str) and value in _S3_PUBLIC_ACLS:
            facts.public.append(
                (at(acl_block, "acl"), f"{acl_block.address} sets acl = \"{value}\"")
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
        for block in m.linked("aws_s3_bucket_policy", "bucket", bucket)
    )
    for owner, value in policies:
        statements = resolve_policy(m, value, owner.line_of("policy"))
        if statements is None:
            # A policy we cannot read (built elsewhere) may well deny plain HTTP; do not
            # claim it does not.
            facts.tls_only = True
            continue
        if any(policy.denies_insecure_transport(s) for s in statements):
            facts.tls_only = True
        for statement in statements:
            if policy.is_public(statement):
                where = owner.address if owner is not bucket else "its policy"
                facts.public.append(
                    (at(owner, "policy"),
                     f"{where} allows Principal \"*\" ({', '.join(statement.actions[:3])}) "
                     "with no condition")
                )
                break


def _s3_public_access_block(m: Module, bucket: Block, facts: StorageFacts) -> None:
    blocks = m.linked("aws_s3_bucket_public_access_block", "bucket", bucket)
    if not blocks:
        facts.public_access_block_missing = list(_PAB_FLAGS)
        return
    block = blocks[0]
    missing = [
        flag for flag in _PAB_FLAGS
        if not truthy(block.get(flag)) and not unknown(block.get(flag))
    ]
    if missing:
        facts.public_access_block_missing = missing
        facts.public_access_block_at = at(block)


def _s3_versioning(m: Module, bucket: Block, facts: StorageFacts) -> None:
    for inline in nested(bucket, "versioning"):
        enabled = inline.get("enabled")
        facts.versioning = True if unknown(enabled) else truthy(enabled)
        facts.versioning_at = None if facts.versioning else at(inline)
    for block in m.linked("aws_s3_bucket_versioning", "bucket", bucket):
        for config in block.children("versioning_configuration"):
            status = text_of(config.get("status", ""))
            facts.versioning = status == "Enabled"
            facts.versioning_at = None if facts.versioning else Located(
                config.file, config.line_of("status")
            )


# --- Azure storage accounts ----------------------------------------------------------------------


def _azure_storage(m: Module) -> Iterator[Issue]:
    for account in m.of("azurerm_storage_account"):
        facts = StorageFacts(
            address=account.address,
            at=at(account),
            label="storage account",
            tier=m.tier(account),
            configured_tier=m.configured_tier,
            quantum=account.address in m.quantum_storage,
            default_encryption="Microsoft-managed keys",
            cmk_hint="a customer-managed key (customer_managed_key block or "
            "azurerm_storage_account_customer_managed_key)",
        )
        facts.customer_key = bool(account.children("customer_managed_key")) or bool(
            m.linked("azurerm_storage_account_customer_managed_key", "storage_account_id",
                     account)
        )
        for flag in ("allow_nested_items_to_be_public", "allow_blob_public_access"):
            if truthy(account.get(flag)):
                facts.public.append((at(account, flag), f"{flag} = true"))
        if all(account.get(flag) is None
               for flag in ("allow_nested_items_to_be_public", "allow_blob_public_access")):
            # azurerm 3.0 and later: nested items may be public unless set to false (the
            # older allow_blob_public_access defaulted to false; when it is written, it rules).
            facts.public_by_default.append(
                (at(account), "allow_nested_items_to_be_public is not set (default true), so "
                 "any container in it can be made public")
            )
        containers = m.linked("azurerm_storage_container", "storage_account_name", account)
        containers += m.linked("azurerm_storage_container", "storage_account_id", account)
        for container in containers:
            access = container.get("container_access_type")
            if isinstance(access, str) and access in {"blob", "container"}:
                facts.public.append(
                    (at(container, "container_access_type"),
                     f"{container.address} has container_access_type = \"{access}\"")
                )
        # Versioning and logging are asked of every account, as of every S3 bucket.
        _azure_versioning(account, facts)
        settings = m.of("azurerm_monitor_diagnostic_setting")
        facts.logging = any(
            account.address in references(d.get("target_resource_id")) for d in settings
        ) or _queue_logging(account)
        # An account that receives diagnostic logs is a log store: it needs no logging itself.
        facts.logging_exempt = any(
            account.address in references(d.get("storage_account_id")) for d in settings
        )
        facts.lifecycle = bool(
            m.linked("azurerm_storage_management_policy", "storage_account_id", account)
        )
        yield from storage_issues(facts)
        yield from _azure_storage_access(m, account, facts)


def _azure_versioning(account: Block, facts: StorageFacts) -> None:
    """Blob versioning (``blob_properties { versioning_enabled }``, default false)."""
    for properties in nested(account, "blob_properties"):
        enabled = properties.get("versioning_enabled")
        if truthy(enabled) or unknown(enabled):
            facts.versioning = True
            return
        if falsy(enabled):
            facts.versioning = False
            facts.versioning_at = at(properties, "versioning_enabled")


def _queue_logging(account: Block) -> bool:
    """Storage analytics logging of the queue service (``queue_properties { logging }``)
    with at least one of delete/read/write on."""
    return any(
        any(truthy(logging.get(k)) or unknown(logging.get(k)) for k in ("delete", "read", "write"))
        for properties in nested(account, "queue_properties")
        for logging in nested(properties, "logging")
    )


def _azure_storage_access(m: Module, account: Block, facts: StorageFacts) -> Iterator[Issue]:
    """Network reach (QG-IAC-016), TLS (017) and shared keys (018) of a storage account."""
    address, why = account.address, facts.why()
    elevated = facts.job_data
    public_network = account.get("public_network_access_enabled")
    # Network rules of their own point at the account by id or, in older configurations,
    # by name (storage_account_name + resource_group_name).
    rule_sets = [*account.children("network_rules")]
    for attribute in ("storage_account_id", "storage_account_name"):
        rule_sets += m.linked("azurerm_storage_account_network_rules", attribute, account)
    denied = any(
        text_of(rules.get("default_action", "")).lower() == "deny" for rules in rule_sets
    )
    if not falsy(public_network) and not denied:
        state = "is true" if public_network is not None else "is not set (default true)"
        yield iac_issue(
            "QG-IAC-016", at(account, "public_network_access_enabled"),
            f"{address}{why}: public_network_access_enabled {state} and network rules do "
            "not deny by default; reach it through a private endpoint",
            f"{address}:public-network", None if elevated else Severity.LOW,
        )
    tls = account.get("min_tls_version")
    if isinstance(tls, str) and tls.upper() in {"TLS1_0", "TLS1_1"}:
        yield iac_issue(
            "QG-IAC-017", at(account, "min_tls_version"),
            f"{address}{why} accepts {tls}; require TLS1_2",
            f"{address}:tls:{tls}",
        )
    for flag in ("https_traffic_only_enabled", "enable_https_traffic_only"):
        if falsy(account.get(flag)):
            yield iac_issue(
                "QG-IAC-017", at(account, flag),
                f"{address}{why} accepts plain HTTP ({flag} = false)",
                f"{address}:http",
            )
    shared = account.get("shared_access_key_enabled")
    if not falsy(shared):
        state = "is true" if shared is not None else "is not set (default true)"
        yield iac_issue(
            "QG-IAC-018", at(account, "shared_access_key_enabled"),
            f"{address}{why}: shared_access_key_enabled {state}, so account keys and SAS "
            "tokens work alongside Entra ID",
            f"{address}:shared-key", None if elevated or facts.regulated else Severity.LOW,
        )


# --- IBM Cloud Object Storage --------------------------------------------------------------------


def _ibm_cos(m: Module) -> Iterator[Issue]:
    public_groups = {
        block.address for block in m.data.get("ibm_iam_access_group", [])
        if text_of(block.get("access_group_name", "")).lower() == "public access"
    }
    public_policies = [
        block for block in m.of("ibm_iam_access_group_policy")
        if public_groups & references(block.get("access_group_id"))
    ]
    for bucket in m.of("ibm_cos_bucket"):
        tier = m.tier(bucket)
        instance_refs = references(bucket.get("resource_instance_id"))
        for address in instance_refs:
            instance = m.by_address.get(address)
            if instance is not None and tier is None:
                tier = tier_from_tags(instance.get("tags"))
        facts = StorageFacts(
            address=bucket.address, at=at(bucket), tier=tier,
            configured_tier=m.configured_tier, default_encryption="IBM-managed keys",
            cmk_hint="a Key Protect or Hyper Protect Crypto Services key (kms_key_crn)",
        )
        facts.customer_key = any(
            bucket.get(k) not in (None, "") for k in ("kms_key_crn", "key_protect")
        )
        for access in public_policies:
            mentioned = _block_references(access)
            if bucket.address in mentioned or instance_refs & mentioned:
                facts.public.append(
                    (at(access), f"{access.address} grants the Public Access group access")
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


def _block_references(block: Block) -> set[str]:
    found: set[str] = set()
    for inner in block.walk():
        for attribute in inner.attributes.values():
            found.update(references(attribute.value))
    return found

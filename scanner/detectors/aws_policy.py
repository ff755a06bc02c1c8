"""AWS IAM policy documents, read the same way for Terraform and CloudFormation.

A policy arrives as a parsed mapping (``jsonencode({...})`` in Terraform, a
``PolicyDocument`` in CloudFormation), a JSON string (heredoc, ``policy = "..."``) or the
statement blocks of an ``aws_iam_policy_document`` data source; each becomes a list of
``Statement`` records. Values that are expressions (Terraform references, CloudFormation
intrinsics) are kept as text, so they never compare equal to ``"*"``.

The analyses are small and independent:

- ``wildcard_grant``: an identity-policy statement (no ``Principal``) allowing ``*`` or a
  whole service (``braket:*``), or using ``NotAction`` in an Allow;
- ``is_public``: a resource-policy statement allowing anyone (``"*"``/``{"AWS": "*"}``)
  without a condition that narrows who;
- ``trust_issue``: a role trust statement that lets anyone (or any repository of an OIDC
  provider) assume the role;
- ``admin_and_user``: key-policy principals that both administer and use a KMS key;
- ``denies_insecure_transport``: a bucket-policy Deny conditioned on ``aws:SecureTransport``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from scanner.model import Severity

ADMIN_MANAGED_POLICIES = frozenset(
    {"administratoraccess", "poweruseraccess", "iamfullaccess"}
)
_ASSUME_ACTIONS = ("sts:assumerole", "sts:assumerolewithwebidentity", "sts:assumerolewithsaml")
# Condition keys that do not narrow *who* may act (a public statement stays public).
_NON_NARROWING_CONDITIONS = frozenset({"aws:securetransport"})
_KMS_ADMIN = ("kms:putkeypolicy", "kms:schedulekeydeletion", "kms:disablekey",
              "kms:updatekeydescription", "kms:createalias", "kms:revokegrant", "kms:enablekey")
_KMS_USE = ("kms:encrypt", "kms:decrypt", "kms:generatedatakey", "kms:reencryptfrom")
ESCALATION_SERVICES = frozenset({"iam", "sts", "kms", "organizations"})


@dataclass(frozen=True)
class Statement:
    effect: str  # "Allow" or "Deny"
    actions: tuple[str, ...]  # lower-cased
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: bool
    principals: tuple[tuple[str, tuple[str, ...]], ...]  # (type, identifiers); ("*", ("*",))
    has_principal: bool
    condition_keys: tuple[str, ...]  # lower-cased keys, e.g. "aws:sourcearn"
    line: int
    sid: str = ""

    @property
    def allows(self) -> bool:
        return self.effect.lower() == "allow"

    def principal_ids(self, kind: str) -> tuple[str, ...]:
        return tuple(i for k, ids in self.principals for i in ids if k.lower() == kind.lower())

    def all_principal_ids(self) -> tuple[str, ...]:
        return tuple(i for _k, ids in self.principals for i in ids)

    def grants(self, action: str) -> bool:
        """Whether the statement's actions cover ``action`` (lower-case, may be a pattern)."""
        if self.not_actions:
            return not any(fnmatchcase(action, pattern) for pattern in self.not_actions)
        return any(fnmatchcase(action, pattern) for pattern in self.actions)

    def describe(self) -> str:
        if self.not_actions:
            actions = "NotAction " + ", ".join(self.not_actions[:3])
        else:
            actions = ", ".join(self.actions[:4]) + (" …" if len(self.actions) > 4 else "")
        resources = "NotResource" if self.not_resources else ", ".join(self.resources[:2])
        return f"Action {actions} on Resource {resources or '(none)'}"


# --- reading -------------------------------------------------------------------------------------


def expression_text(value: Any) -> str:
    """A string for a scalar that may be an intrinsic function or a Terraform expression."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = getattr(value, "text", None)
    if isinstance(text, str):
        return "${" + text + "}"
    if isinstance(value, dict) and len(value) == 1:
        key, inner = next(iter(value.items()))
        if key == "Fn::Sub":
            template = inner[0] if isinstance(inner, list) and inner else inner
            return template if isinstance(template, str) else "${Fn::Sub}"
        if key == "Ref":
            return "${" + str(inner) + "}"
        if key == "Fn::Join" and isinstance(inner, list) and len(inner) == 2:
            separator, parts = inner
            if isinstance(separator, str) and isinstance(parts, list):
                return separator.join(expression_text(p) for p in parts)
        return "${" + str(key) + "}"
    return "${?}"


def strings(value: Any) -> tuple[str, ...]:
    """One or many values as strings; ``Fn::If`` contributes both branches."""
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(s for item in value for s in strings(item))
    if isinstance(value, dict) and len(value) == 1 and "Fn::If" in value:
        branches = value["Fn::If"]
        if isinstance(branches, list) and len(branches) == 3:
            return strings(branches[1]) + strings(branches[2])
    return (expression_text(value),)


def _principals(value: Any) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (("*", ("*",)),) if value.strip() == "*" else (("AWS", (value,)),)
    if isinstance(value, dict) and not is_intrinsic(value):
        return tuple((str(kind), strings(ids)) for kind, ids in value.items())
    return (("AWS", strings(value)),)


def branches(value: Any) -> list[Any]:
    """CloudFormation ``Fn::If`` expanded into both outcomes, ``AWS::NoValue`` dropped: a
    conditional statement, rule or policy is checked as if each condition could hold."""
    if isinstance(value, dict) and len(value) == 1:
        if "Fn::If" in value:
            args = value["Fn::If"]
            if isinstance(args, list) and len(args) == 3:
                return [*branches(args[1]), *branches(args[2])]
        if value.get("Ref") == "AWS::NoValue":
            return []
    return [value]


def expand(items: Any) -> list[Any]:
    """A list's items with conditional items expanded (see ``branches``)."""
    if not isinstance(items, list):
        return []
    return [outcome for item in items for outcome in branches(item)]


def is_intrinsic(value: Any) -> bool:
    """A CloudFormation value decided at deploy time (``!If``, ``!Ref``, ``!FindInMap`` …)."""
    return isinstance(value, dict) and len(value) == 1 and str(next(iter(value))).startswith(
        ("Fn::", "Ref")
    )


def _line(value: Any, default: int) -> int:
    line = getattr(value, "line", 0)
    return line if isinstance(line, int) and line > 0 else default


def statements_from_document(document: Any, line: int) -> list[Statement]:
    """Statements of a parsed policy document; unknown shapes give an empty list."""
    documents = [d for d in branches(document) if isinstance(d, dict)]
    if len(documents) != 1 or documents[0] is not document:
        return [s for d in documents for s in statements_from_document(d, line)]
    raw = document.get("Statement")
    if isinstance(raw, dict):
        raw = [raw]
    result = []
    for item in expand(raw):
        if not isinstance(item, dict):
            continue
        condition = item.get("Condition")
        keys: list[str] = []
        if isinstance(condition, dict):
            for operator_block in condition.values():
                if isinstance(operator_block, dict):
                    keys.extend(str(k).lower() for k in operator_block)
                else:
                    keys.append("?")
        elif condition is not None:
            keys.append("?")
        principal = item.get("Principal")
        not_principal = item.get("NotPrincipal")
        result.append(
            Statement(
                effect=expression_text(item.get("Effect", "Allow")),
                actions=tuple(a.lower() for a in strings(item.get("Action"))),
                not_actions=tuple(a.lower() for a in strings(item.get("NotAction"))),
                resources=strings(item.get("Resource")),
                not_resources="NotResource" in item,
                principals=_principals(principal if principal is not None else not_principal),
                has_principal=principal is not None or not_principal is not None,
                condition_keys=tuple(keys),
                line=_line(item, line),
                sid=expression_text(item.get("Sid", "")),
            )
        )
    return result


def parse_json_policy(text: str) -> Any:
    """A JSON policy string as data, or None when it is not (yet) JSON (templated, file())."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


# --- analyses ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    severity: Severity
    text: str


def wildcard_grant(statement: Statement) -> Grant | None:
    """A broad grant in an identity-policy statement (one without a Principal)."""
    if not statement.allows or statement.has_principal:
        return None
    star_resource = statement.not_resources or "*" in statement.resources
    if statement.not_actions:
        severity = Severity.HIGH if star_resource else Severity.MEDIUM
        return Grant(severity, f"Allow with {statement.describe()}")
    if "*" in statement.actions or "*:*" in statement.actions:
        severity = Severity.CRITICAL if star_resource else Severity.HIGH
        return Grant(severity, statement.describe())
    services = [a for a in statement.actions if a.endswith(":*")]
    if services:
        escalation = any(a.split(":", 1)[0] in ESCALATION_SERVICES for a in services)
        severity = Severity.HIGH if star_resource or escalation else Severity.MEDIUM
        return Grant(severity, statement.describe())
    return None


def _narrowing_conditions(statement: Statement) -> list[str]:
    return [k for k in statement.condition_keys if k not in _NON_NARROWING_CONDITIONS]


def is_public(statement: Statement) -> bool:
    """An Allow to everyone (``*`` or AWS ``*``) with no condition narrowing the caller."""
    if not statement.allows or not statement.has_principal:
        return False
    everyone = any(i.strip() == "*" for i in statement.all_principal_ids())
    return everyone and not _narrowing_conditions(statement)


def denies_insecure_transport(statement: Statement) -> bool:
    """The usual TLS-only guard: Deny (any action) when ``aws:SecureTransport`` is false."""
    return not statement.allows and "aws:securetransport" in statement.condition_keys


def trust_issue(statement: Statement) -> Grant | None:
    """A trust-policy statement that lets anyone, or any OIDC subject, assume the role."""
    if not statement.allows:
        return None
    if not any(statement.grants(a) for a in _ASSUME_ACTIONS):
        return None
    if is_public(statement):
        return Grant(Severity.CRITICAL, "Principal \"*\" may assume the role with no condition")
    for federated in statement.principal_ids("Federated"):
        if "oidc-provider/" in federated or federated.startswith(
            ("token.actions.githubusercontent.com", "gitlab.com", "app.terraform.io")
        ):
            has_subject = any(k.endswith(":sub") for k in statement.condition_keys)
            if not has_subject:
                provider = federated.rsplit("oidc-provider/", 1)[-1]
                return Grant(
                    Severity.HIGH,
                    f"OIDC provider {provider} is trusted without a ':sub' condition, so any "
                    "repository or pipeline of that provider can assume the role",
                )
    return None


def trusted_services(statements: Iterable[Statement]) -> set[str]:
    services: set[str] = set()
    for statement in statements:
        if statement.allows and any(statement.grants(a) for a in _ASSUME_ACTIONS):
            services.update(s.lower() for s in statement.principal_ids("Service"))
    return services


def _is_account_root(identifier: str) -> bool:
    text = identifier.strip()
    return text.endswith(":root") or (text.isdigit() and len(text) == 12)


def admin_and_user(statements: Iterable[Statement]) -> list[tuple[str, int]]:
    """Key-policy principals (not the account root, not ``*``) that administer and use the key."""
    admins: dict[str, int] = {}
    users: set[str] = set()
    for statement in statements:
        if not statement.allows:
            continue
        ids = [i for i in statement.principal_ids("AWS") if i != "*" and not _is_account_root(i)]
        if not ids:
            continue
        administers = any(statement.grants(a) for a in _KMS_ADMIN)
        uses = any(statement.grants(a) for a in _KMS_USE)
        for identifier in ids:
            if administers:
                admins.setdefault(identifier, statement.line)
            if uses:
                users.add(identifier)
    return [(identifier, line) for identifier, line in admins.items() if identifier in users]


def managed_policy_name(arn: str) -> str:
    """``arn:aws:iam::aws:policy/AdministratorAccess`` -> ``administratoraccess``."""
    if ":iam::aws:policy/" not in arn:
        return ""
    return arn.rsplit("/", 1)[-1].lower()

"""The provider inventory held against the organisation policy (runs in the parent, after
detection, with every file's facts at hand).

- ``QG-INV-001`` a provider is used but no assessed vendor profile stands behind it: the
  policy does not list it, its entry names no ``vendor_profile``, or the profile file is
  missing or does not validate; unless a vendor profile in the scanned tree lists the
  provider in ``vendor.providers``.
- ``QG-INV-002`` a use names a region outside the provider entry's ``regions`` or outside the
  ``regions`` of the scan's data class (``data_classes`` in the policy).
- ``QG-INV-003`` the policy lists the provider but does not approve it for the scan's tier
  (``approved_tiers``; an entry that lists no tier approves none).

Each is reported once per provider, file and problem, at the first line of that file that
shows it, and says which other files use the provider. Severity follows the tier: low at
exploratory, medium at internal-pilot, high at regulated-pilot and production-critical.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scanner.inventory.build import use_order
from scanner.inventory.policy import InventoryPolicy, ProviderRule, region_allowed
from scanner.inventory.table import display_name
from scanner.model import Inventory, Issue, ProviderUse, Severity, Tier, UseKind, printable

NOT_ASSESSED = "QG-INV-001"
REGION_NOT_ALLOWED = "QG-INV-002"
NOT_APPROVED = "QG-INV-003"
INVENTORY_RULES = frozenset({NOT_ASSESSED, REGION_NOT_ALLOWED, NOT_APPROVED})

SEVERITY_BY_TIER = {
    Tier.EXPLORATORY: Severity.LOW,
    Tier.INTERNAL_PILOT: Severity.MEDIUM,
    Tier.REGULATED_PILOT: Severity.HIGH,
    Tier.PRODUCTION_CRITICAL: Severity.HIGH,
}
_SHOWN_FILES = 3


@dataclass(frozen=True)
class InventoryCheck:
    policy: InventoryPolicy
    tier: Tier
    data_class: str
    # Provider id -> a vendor profile in the scanned tree that lists it (vendor.providers).
    tree_profiles: Mapping[str, str] = field(default_factory=dict)


def check_inventory(
    facts: Sequence[ProviderUse], inventory: Inventory, check: InventoryCheck
) -> tuple[list[Issue], Inventory]:
    """The findings for ``facts`` under ``check.policy``, and the inventory with each
    provider's problems (rule ids) filled in."""
    by_provider: dict[str, dict[str, list[ProviderUse]]] = defaultdict(lambda: defaultdict(list))
    for fact in sorted(facts, key=use_order):
        by_provider[fact.provider][fact.path or ""].append(fact)
    issues: list[Issue] = []
    problems: dict[str, set[str]] = defaultdict(set)
    for provider, files in sorted(by_provider.items()):
        for issue in _provider_issues(provider, files, check):
            issues.append(issue)
            problems[provider].add(issue.rule_id)
    marked = inventory.model_copy(update={
        "providers": tuple(
            p.model_copy(update={"problems": tuple(sorted(problems.get(p.id, ())))})
            for p in inventory.providers
        ),
        "policy": check.policy.label,
        "policy_origin": check.policy.origin,
        "tier": check.tier,
        "data_class": check.data_class,
    })
    return issues, marked


def _provider_issues(
    provider: str, files: Mapping[str, list[ProviderUse]], check: InventoryCheck
) -> Iterable[Issue]:
    rule = check.policy.providers.get(provider)
    unassessed = _unassessed(provider, rule, check)
    severity = SEVERITY_BY_TIER[check.tier]
    name = f"{display_name(provider)} ({provider})"
    for path, uses in files.items():
        first = uses[0]
        elsewhere = _elsewhere(path, files)
        if unassessed is not None:
            yield _issue(NOT_ASSESSED, first, severity, f"{name} is used here "
                         f"({_what(first)}) but {unassessed}; {elsewhere}",
                         material=f"{provider}\x00{unassessed}")
        if rule is not None and check.tier not in rule.approved_tiers:
            approved = ", ".join(t.value for t in rule.approved_tiers)
            why = (f"its entry approves it only for {approved}" if approved
                   else "its entry approves it for no tier")
            yield _issue(NOT_APPROVED, first, severity, f"{name} is used here "
                         f"({_what(first)}) but the policy {check.policy.label} does not approve "
                         f"it for tier {check.tier.value}: {why}; {elsewhere}",
                         material=f"{provider}\x00{check.tier.value}")
        outside = _regions_outside(provider, rule, uses, check)
        if outside:
            at, message = outside
            yield _issue(REGION_NOT_ALLOWED, at, severity, f"{name} {message}; {elsewhere}",
                         material=f"{provider}\x00{message}")


def _unassessed(provider: str, rule: ProviderRule | None, check: InventoryCheck) -> str | None:
    """Why no assessed vendor profile stands behind ``provider``; None when one does."""
    if provider in check.tree_profiles:
        return None
    label = check.policy.label
    if rule is None:
        return f"the policy {label} does not list it under providers, so no assessment is on record"
    path = check.policy.profile_path(rule)
    if path is None:
        return f"its entry in the policy {label} names no vendor_profile"
    shown = printable(rule.vendor_profile or str(path))
    if not Path(path).is_file():
        return f"its vendor profile {shown} (named by {label}) does not exist"
    # Here, not at the top: only a policy naming vendor profiles needs the profile models.
    from scanner.vendors.profile_loader import ProfileError, load_profile

    try:
        load_profile(path, shown)
    except ProfileError as exc:
        return f"its vendor profile {shown} does not validate ({exc.summary()})"
    return None


def _regions_outside(
    provider: str, rule: ProviderRule | None, uses: Sequence[ProviderUse], check: InventoryCheck
) -> tuple[ProviderUse, str] | None:
    """(first offending use, what is wrong) for the regions of one file's uses."""
    own = rule.regions if rule is not None else None
    for_data = check.policy.data_class_regions.get(check.data_class)
    bad: dict[str, list[str]] = {}
    first: ProviderUse | None = None
    for use in uses:
        if not use.region or use.region in bad:
            continue
        reasons = []
        if own is not None and not region_allowed(use.region, own):
            reasons.append(f"the regions the policy allows for {provider} "
                           f"({', '.join(own) or 'none'})")
        if for_data is not None and not region_allowed(use.region, for_data):
            reasons.append(f"the regions allowed for {check.data_class} data "
                           f"({', '.join(for_data) or 'none'})")
        if reasons:
            bad[use.region] = reasons
            first = first or use
    if first is None:
        return None
    regions = ", ".join(printable(r) for r in bad)
    reasons = sorted({reason for found in bad.values() for reason in found})
    plural = "s" if len(bad) > 1 else ""
    return first, (f"runs in region{plural} {regions} here ({_what(first)}), outside "
                   + " and ".join(reasons))


def _what(use: ProviderUse) -> str:
    if use.kind is UseKind.SDK_IMPORT:
        return f"import {use.detail}"
    return f"{use.kind.value} {use.detail}"


def _elsewhere(path: str, files: Mapping[str, list[ProviderUse]]) -> str:
    others = [p for p in files if p != path]
    if not others:
        return "no other scanned file uses it"
    shown = ", ".join(printable(p) for p in others[:_SHOWN_FILES])
    more = f" and {len(others) - _SHOWN_FILES} more" if len(others) > _SHOWN_FILES else ""
    return f"also used in {shown}{more}"


def _issue(rule_id: str, use: ProviderUse, severity: Severity, message: str, *,
           material: str) -> Issue:
    return Issue(
        rule_id=rule_id,
        message=message,
        line=use.line,
        cell=use.cell,
        path=use.path,
        severity=severity,
        evidence=_what(use),
        material=material,
    )

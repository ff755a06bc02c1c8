"""The governance sections of the report: the exceptions register, suppressions, vendor
assessments and the access review, as plain view data for the templates.

What needs a decision comes first: expired and incomplete exceptions, expired suppressions,
access-review action items, vendors that are not approvable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scanner.governance.access_review import AccessReview
from scanner.pack.caps import Caps
from scanner.pack.legend import chip
from scanner.pack.model import ExceptionEntry, SuppressionEntry, VendorSection

_STATE_ORDER = {"expired": 0, "incomplete": 1, "honoured": 2}
_VERDICT_KIND = {
    "approvable": "good",
    "approvable with compensating controls": "qualified",
    "not approvable": "bad",
}


def exceptions_view(entries: Sequence[ExceptionEntry]) -> list[dict[str, Any]]:
    ordered = sorted(entries, key=lambda e: (_STATE_ORDER.get(e.state, 3), e.expires is None,
                                             e.expires or "", e.id or "", e.register))
    return [
        {
            "id": entry.id or "(no id)",
            "control": entry.control or "—",
            "state": chip(entry.state, entry.state),
            "expired": entry.state == "expired",
            "risk_owner": entry.risk_owner or "—",
            "expires": entry.expires.isoformat() if entry.expires else "—",
            "ticket": entry.ticket,
            "reason": entry.reason,
            "compensating": list(entry.compensating_controls),
            "scope": [(name, list(values)) for name, values in sorted(entry.scope.items())],
            "register": entry.register,
            "missing": list(entry.missing),
            "findings_covered": entry.findings_covered,
        }
        for entry in ordered
    ]


def _location(entry: SuppressionEntry) -> str:
    return f"{entry.path}:{entry.line}" if entry.line is not None else entry.path


def suppressions_view(entries: Sequence[SuppressionEntry], caps: Caps,
                      multi: bool) -> dict[str, Any]:
    ordered = sorted(entries, key=lambda e: (not e.expired, -e.severity.rank, e.repository,
                                             e.path, e.line or 0, e.rule_id, e.fingerprint))
    shown = ordered[: caps.suppressions]
    kinds: dict[str, int] = {}
    for entry in entries:
        kinds[entry.kind.value] = kinds.get(entry.kind.value, 0) + 1
    return {
        "total": len(entries),
        "expired": sum(1 for e in entries if e.expired),
        "by_kind": sorted(kinds.items()),
        "more": len(entries) - len(shown),
        "rows": [
            {
                "repository": entry.repository if multi else None,
                "rule_id": entry.rule_id,
                "severity": entry.severity.value,
                "location": _location(entry),
                "kind": entry.kind.value,
                "reason": entry.reason,
                "owner": entry.owner,
                "until": entry.until,
                "expired": entry.expired,
                "id": entry.id,
                "fingerprint": entry.fingerprint,
            }
            for entry in shown
        ],
    }


def vendors_view(sections: Sequence[VendorSection], caps: Caps) -> list[dict[str, Any]]:
    verdicts = list(_VERDICT_KIND)

    def worst_first(v: VendorSection) -> tuple[int, int, str, str]:
        rank = verdicts.index(v.verdict) if v.verdict in verdicts else 1
        return (-rank, -v.gaps, v.assessment.vendor.name, v.origin)

    views = []
    for section in sorted(sections, key=worst_first):
        assessment = section.assessment
        gaps = assessment.gaps
        views.append({
            "name": assessment.vendor.name,
            "product": assessment.vendor.product,
            "fictional": assessment.vendor.fictional,
            "origin": section.origin,
            "tier": assessment.tier.value,
            "verdict": section.verdict,
            "kind": _VERDICT_KIND.get(section.verdict, "qualified"),
            "score": section.score,
            "gaps": section.gaps,
            "rows": [
                {
                    "severity": gap.severity.value if gap.severity else "info",
                    "status": "not stated" if gap.status.value == "not-stated" else "gap",
                    "title": gap.title,
                    "detail": gap.detail,
                    "controls": list(gap.controls),
                }
                for gap in gaps[: caps.vendor_gaps]
            ],
            "more": max(0, len(gaps) - caps.vendor_gaps),
        })
    return views


def access_view(review: AccessReview | None, caps: Caps) -> dict[str, Any] | None:
    if review is None:
        return None
    actions = review.action_items
    info = [item for item in review.items if not item.action]
    grants = sorted(review.grants, key=lambda g: (g.identity, g.role, g.project, g.environment,
                                                 g.backend, g.right))
    ledger = review.ledger
    return {
        "policy": [(key, value) for key, value in review.policy.items() if value],
        "as_of": review.today.isoformat(),
        "inactive_days": review.inactive_days,
        "summary": review.summary(),
        "ledger": None if ledger is None else {
            "path": str(ledger.path),
            "intact": ledger.intact,
            "events": ledger.events,
            "began": ledger.began.date().isoformat() if ledger.began else None,
        },
        "actions": [{"kind": i.kind, "subject": i.subject, "message": i.message}
                    for i in actions[: caps.access_items]],
        "actions_more": max(0, len(actions) - caps.access_items),
        "info": [{"kind": i.kind, "subject": i.subject, "message": i.message}
                 for i in info[: caps.access_items]],
        "info_more": max(0, len(info) - caps.access_items),
        "grants": [
            {"identity": g.identity, "kind": g.kind, "role": g.role, "project": g.project,
             "environment": g.environment, "backend": g.backend, "right": g.right}
            for g in grants[: caps.grants]
        ],
        "grants_more": max(0, len(grants) - caps.grants),
        "ok": chip("passing", "no action items") if not actions
        else chip("failing", f"{len(actions)} action item(s)"),
    }

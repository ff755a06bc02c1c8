"""Issues become findings here, and only here: evidence masked or capped, message and
evidence stripped of URL credentials, the fingerprint's content hash, and everything the
catalog says about the rule (title, controls, domain, frameworks, default severity,
remediation)."""

from __future__ import annotations

from collections.abc import Iterable

from scanner.catalog import Catalog
from scanner.masking import mask, redact_url
from scanner.model import Finding, Issue, ScanError, content_digest

# Evidence is a hint for a reader, not a copy of the file.
EVIDENCE_LIMIT = 160


class FindingBuilder:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.unknown_rules: set[str] = set()

    def build(self, issue: Issue, path: str | None = None) -> Finding | None:
        """The finding for ``issue`` (at ``issue.path``, else ``path``); None, and the id
        remembered, when the catalog does not know its rule."""
        catalog = self.catalog
        rule = catalog.rule(issue.rule_id)
        if rule is None:
            self.unknown_rules.add(issue.rule_id)
            return None
        where = issue.path or path
        if where is None:
            raise ValueError(f"issue {issue.rule_id} has no path")
        if issue.secret is not None:
            evidence: str | None = mask(issue.secret)
        elif issue.sealed is not None and issue.sealed.masked is not None:
            evidence = issue.sealed.masked
        elif issue.evidence:
            evidence = redact_url(issue.evidence[:EVIDENCE_LIMIT])
        else:
            evidence = None
        control_ids = tuple(dict.fromkeys([*rule.controls, *issue.control_ids]))
        material = issue.material or issue.secret or ""
        digest = (
            issue.sealed.digest if issue.sealed and not material else content_digest(material)
        )
        return Finding(
            rule_id=issue.rule_id,
            # Last line of defence: whatever a detector quoted, URL credentials go.
            message=redact_url(issue.message),
            path=where,
            line=issue.line,
            end_line=issue.end_line,
            column=issue.column,
            cell=issue.cell,
            severity=issue.severity or catalog.rule_severity(rule),
            confidence=issue.confidence,
            evidence=evidence,
            content_hash=digest,
            title=rule.title,
            control_ids=control_ids,
            domain=catalog.rule_domain(rule),
            frameworks=catalog.framework_refs(control_ids),
            remediation=rule.remediation or catalog.controls[rule.controls[0]].remediation,
            engine=issue.engine,
        )

    def build_all(self, issues: Iterable[Issue]) -> list[Finding]:
        return [f for issue in issues if (f := self.build(issue)) is not None]

    def errors(self) -> list[ScanError]:
        return [
            ScanError(
                path=".", reason="engine-error", message=f"rule {rule_id} is not in the catalog"
            )
            for rule_id in sorted(self.unknown_rules)
        ]

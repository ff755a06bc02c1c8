"""Vendor security profiles met during a scan, assessed at the scan's tier.

A file discovery classifies as a vendor profile (YAML with a top-level ``vendor:`` or
``qgov_vendor_profile:`` key) is validated with the profile model and held against the
requirement table (``scanner.vendors``) on the day of the scan. Each gap or unanswered
question is one issue, at the line of the profile field that causes it (the section's line
when the field is missing), rated for the tier, with the row's own controls added. Rules
(``scanner/rules/vendor.yaml``), one per requirement family:

- QG-VND-001 identity: SSO, de-provisioning, MFA, conditional access;
- QG-VND-002 credentials for automation: token lifetime and scope, workload identity;
- QG-VND-003 access restrictions: approvals, private connectivity, IP allow-lists;
- QG-VND-004 audit logging: retention, export, job metadata;
- QG-VND-005 encryption: in transit, at rest, customer-managed keys;
- QG-VND-006 data handling: residency, tenant isolation, retention, deletion, subprocessors;
- QG-VND-007 contract terms: GDPR DPA, HIPAA BAA, incident notification;
- QG-VND-008 independent assurance: certifications, profile age.

A profile with unknown fields, wrong types or impossible dates is a parse error naming the
line and the field; the rest of the scan carries on. YAML whose ``vendor:`` key is not a
profile at all (a scalar, or a mapping without ``name``) and that has no
``qgov_vendor_profile:`` marker is left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any, ClassVar

from scanner.detectors.interface import Detector
from scanner.formats.errors import ParseError
from scanner.formats.yaml import check_size
from scanner.model import FileKind, Issue, Tier
from scanner.source import SourceFile
from scanner.vendors.rule_ids import RULE_IDS


def looks_like_profile(documents: list[Any]) -> bool:
    """Whether a file is meant as a vendor profile (and so must validate as one)."""
    for document in documents:
        if not isinstance(document, dict):
            continue
        if "qgov_vendor_profile" in document:
            return True
        vendor = document.get("vendor")
        if isinstance(vendor, dict) and "name" in vendor:
            return True
    return False


class VendorProfileDetector(Detector):
    name = "vendor-profiles"
    kinds: ClassVar[frozenset[FileKind]] = frozenset({FileKind.VENDOR_PROFILE})
    rules: ClassVar[frozenset[str]] = RULE_IDS

    def __init__(self, tier: Tier = Tier.INTERNAL_PILOT, today: date | None = None) -> None:
        self.tier = tier
        self.today = today

    def scan(self, source: SourceFile) -> Iterator[Issue]:
        # Loaded on the first profile: most trees have none.
        from scanner.vendors.assess import assess_loaded
        from scanner.vendors.profile_loader import (
            ProfileError,
            parse_documents,
            profile_from_documents,
        )
        from scanner.vendors.requirements import Status

        check_size(source.text, "vendor profile")
        try:
            try:
                documents = source.yaml_documents
            except ParseError:
                # A date YAML resolves but cannot build (2026-02-30): the profile's own reader
                # names the field and its line; for text that is no YAML it reports that.
                documents = parse_documents(source.text, source.path)
            if not looks_like_profile(documents):
                return
            loaded = profile_from_documents(documents, source.path)
        except ProfileError as exc:
            raise ParseError(f"vendor profile: {exc.summary()}", exc.line) from exc
        except ParseError as exc:  # not YAML at all (or an alias bomb)
            raise ParseError(f"vendor profile: {exc}", exc.line) from exc
        assessment = assess_loaded(loaded, tier=self.tier, today=self.today or date.today())
        vendor = assessment.vendor.name
        for outcome in assessment.gaps:
            stated = " not stated" if outcome.status is Status.NOT_STATED else ""
            yield Issue(
                rule_id=outcome.rule_id,
                message=f"{vendor}: {outcome.title}{stated} ({self.tier.value}): "
                f"{outcome.detail}",
                line=outcome.line,
                material=f"{outcome.requirement}:{outcome.status.value}",
                severity=outcome.severity,
                evidence=outcome.fields[0] if outcome.fields else None,
                control_ids=outcome.controls,
            )

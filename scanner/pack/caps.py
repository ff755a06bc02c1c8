"""How much of each long list the readable report shows. The machine-readable files of the
pack always hold everything; the report says how many rows it left out and where they are,
so its size (and the PDF's render time) is bounded by these numbers, not by the input."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Caps:
    findings_per_rule: int = 20
    # All findings listed; when the rules together have more, each rule gets an equal share
    # (most severe rules take what is left over), so every rule shows examples.
    findings_total: int = 400
    suppressions: int = 200
    ledger_problems: int = 20
    ledger_jobs: int = 50
    metric_items: int = 12  # entries of one list or mapping inside the ledger metrics
    grants: int = 100
    access_items: int = 100
    vendor_gaps: int = 12
    scan_errors: int = 30
    top_failing_controls: int = 10


DEFAULT_CAPS = Caps()

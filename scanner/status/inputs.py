"""The evidence a status is computed with, loaded once for ``qgov scan``, ``qgov controls
status`` and (later) ``qgov report``: attestations and self-test results."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from scanner.catalog import Catalog
from scanner.status.attestations import AttestationError, AttestationSet, load_attestations
from scanner.status.selftest import SelftestError, SelftestEvidence, load_selftest


class StatusInputError(Exception):
    """A named attestations or self-test file cannot be used (exit 2 at the command line)."""


@dataclass(frozen=True)
class StatusInputs:
    attestations: AttestationSet | None = None
    selftest: SelftestEvidence | None = None


def load_status_inputs(
    catalog: Catalog, *, attestations: Path | None = None, selftest: Path | None = None
) -> StatusInputs:
    try:
        return StatusInputs(
            attestations=load_attestations(attestations, catalog.controls)
            if attestations is not None else None,
            selftest=load_selftest(selftest) if selftest is not None else None,
        )
    except (AttestationError, SelftestError) as exc:
        raise StatusInputError(str(exc)) from exc

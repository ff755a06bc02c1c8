"""The vendor-profile detector's rule ids, spelled out so the detector registry does not load
the requirement table (and the profile models) for scans without vendor profiles. A test holds
them equal to the ids the requirement table declares."""

from __future__ import annotations

RULE_IDS = frozenset(f"QG-VND-{n:03d}" for n in range(1, 9))

"""Helpers the SDK adapters share: timing, failure capture and canonical-safe values."""

from __future__ import annotations

import contextlib
import json
import logging
import time
import warnings
from collections.abc import Iterator
from typing import Any

from scanner.governed.canonical import sha256_hex
from scanner.governed.execute import ExecutionResult, counts_hash


def ms_since(start: float) -> int:
    return max(0, round((time.perf_counter() - start) * 1000))


def fail(result: ExecutionResult, exc: BaseException, started: float) -> ExecutionResult:
    result.status = "failed"
    result.error_type = type(exc).__name__
    result.error_message = str(exc)[:500]
    if not result.run_ms:
        result.run_ms = max(0, ms_since(started) - result.transpile_ms)
    return result


def complete(result: ExecutionResult, counts: dict[str, int]) -> ExecutionResult:
    result.status = "completed"
    result.counts = {str(k): int(v) for k, v in counts.items()}
    result.counts_sha256 = counts_hash(result.counts)
    return result


def text_or_none(value: Any) -> str | None:
    """A JSON-safe text form (records are canonical JSON: no floats, no datetimes)."""
    if value is None:
        return None
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat()) if callable(isoformat) else str(value)


def fingerprint(value: Any) -> str:
    """SHA-256 of a properties document as sorted JSON (floats as Python prints them)."""
    return sha256_hex(json.dumps(value, sort_keys=True, default=str, separators=(",", ":")))


@contextlib.contextmanager
def quiet_sdk(*loggers: str) -> Iterator[None]:
    """SDK deprecation warnings and log lines are not the user's business here; the result
    and its failure, if any, are recorded instead."""
    handler = logging.NullHandler()
    targets = [logging.getLogger(name) for name in loggers]
    for target in targets:
        target.addHandler(handler)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for target in targets:
            target.removeHandler(handler)


def clbit_counts(shots_bits: list[list[str]]) -> dict[str, int]:
    """Counts keyed as qiskit prints them: one group per classical register, the last
    register first, groups separated by a space, clbit 0 of each register rightmost.
    ``shots_bits`` holds, per register in declaration order, one bitstring per shot."""
    counts: dict[str, int] = {}
    for per_shot in zip(*shots_bits, strict=True):
        key = " ".join(reversed(per_shot))
        counts[key] = counts.get(key, 0) + 1
    return counts

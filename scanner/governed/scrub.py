"""Scrubbing: what may appear in log lines and ledger events about a job.

Two layers. First, events and log calls are built from hashes and sizes only (see
``LoadedCircuit.summary``). Second, a :class:`Scrubber` knows the sensitive values of the run
-- the identity token, the circuit text, dataset content -- and replaces any occurrence with a
short labelled hash, plus anything shaped like a JWT. The second layer catches the careless
``log.info(f"... {circuit}")`` the first layer cannot prevent.

Debug mode (time-boxed, approved; see ``service``) relaxes only the log for circuit text.
Tokens are scrubbed always, and ledger events are always scrubbed strictly.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from scanner.governed.canonical import sha256_hex

# header.payload.signature with base64url parts; JWT headers start with '{"' -> 'eyJ'. A
# token starts a word: tried inside a long base64url run it would cost a scan per position.
_JWT = re.compile(
    r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
)
_MIN_FRAGMENT = 12  # shorter lines ("h q[0];") are too generic to scrub without harm

# Labels the debug mode may reveal in the *log*; everything else is always scrubbed.
DEBUG_VISIBLE = frozenset({"circuit"})


@dataclass
class Scrubber:
    debug: bool = False
    _values: list[tuple[str, str]] = field(default_factory=list)

    def register(self, label: str, value: str | None, *, by_line: bool = False) -> None:
        """Remember a sensitive value; ``by_line`` also scrubs each long-enough line of it."""
        if not value:
            return
        pieces = {value.strip()}
        if by_line:
            pieces.update(line.strip() for line in value.splitlines())
        for piece in pieces:
            if len(piece) >= _MIN_FRAGMENT or piece == value.strip():
                self._values.append((label, piece))
        # Longest first, so a whole circuit is replaced before its lines are.
        self._values.sort(key=lambda item: len(item[1]), reverse=True)

    def scrub(self, text: str, *, strict: bool = True) -> str:
        for label, value in self._values:
            if not strict and self.debug and label in DEBUG_VISIBLE:
                continue
            if value and value in text:
                text = text.replace(value, f"[scrubbed {label} sha256:{sha256_hex(value)[:12]}]")
        return _JWT.sub(lambda m: f"[scrubbed jwt sha256:{sha256_hex(m.group(0))[:12]}]", text)

    def scrub_obj(self, value: Any) -> Any:
        """Strictly scrub every string inside a JSON-like value (used for ledger events)."""
        if isinstance(value, str):
            return self.scrub(value, strict=True)
        if isinstance(value, list | tuple):
            return [self.scrub_obj(item) for item in value]
        if isinstance(value, dict):
            return {key: self.scrub_obj(item) for key, item in value.items()}
        return value

    def leaks(self, text: str) -> list[str]:
        """Labels of registered values (or JWT-shaped strings) still present in ``text``."""
        found = sorted({label for label, value in self._values if value and value in text})
        if _JWT.search(text):
            found.append("jwt")
        return found


class ScrubbingFilter(logging.Filter):
    """Rewrites each record's final message through the scrubber before any handler sees it."""

    def __init__(self, scrubber: Scrubber) -> None:
        super().__init__()
        self.scrubber = scrubber

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = self.scrubber.scrub(message, strict=False)
        record.args = None
        if record.exc_info:
            # Tracebacks can quote locals and source; keep the type only.
            exc_type = record.exc_info[0]
            record.msg += f" [{exc_type.__name__ if exc_type else 'exception'}]"
            record.exc_info = None
            record.exc_text = None
        return True

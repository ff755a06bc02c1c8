"""Scrubbing: what may appear in log lines and ledger events about a job.

Two layers. First, events and log calls are built from hashes and sizes only (see
``LoadedCircuit.summary``). Second, a :class:`Scrubber` knows the sensitive values of the run
-- the identity token, the circuit text, dataset content -- and replaces any occurrence with a
short labelled hash, plus anything shaped like a JWT. The second layer catches the careless
``log.info(f"... {circuit}")`` the first layer cannot prevent.

Free text a submitter chooses -- job, project, dataset names and versions -- is a third way
in: a token, a data row or a circuit line typed into a name would otherwise be copied into
every log line, event, record and CLI output. Such fields get a length and character policy at
spec validation (:func:`text_problem`), are run through the scanner's own secret and
personal-data detectors (:func:`scrub_free_text`), and a dataset version that does not look
like a version is kept only as a hash (:func:`opaque_version`). The ledger applies the same
treatment to these fields in every event it writes (``FREE_TEXT_KEYS``), so an event built
from a file qgov did not write (a replayed record) cannot smuggle them in either.

Debug mode (time-boxed, approved; see ``service``) relaxes only the log for circuit text.
Tokens are scrubbed always, and ledger events are always scrubbed strictly.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from scanner.detectors.pii import find_personal_data
from scanner.detectors.secret_patterns import find_secrets
from scanner.governed.canonical import sha256_hex

# header.payload.signature with base64url parts; JWT headers start with '{"' -> 'eyJ'. A
# token starts a word: tried inside a long base64url run it would cost a scan per position.
_JWT = re.compile(
    r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
)
_MIN_FRAGMENT = 12  # shorter lines ("h q[0];") are too generic to scrub without harm

# Labels the debug mode may reveal in the *log*; everything else is always scrubbed.
DEBUG_VISIBLE = frozenset({"circuit"})

# Free-text identifiers (job, project, dataset names...): short, one line, no punctuation that
# circuits (`;`, `[`, `(`), data rows (`,`, tabs) or shell/markup need.
MAX_NAME_CHARS = 128
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+/-]*")
# A dataset version shown in clear: "2026.11.1", "v2.3.0-rc1", "7", "latest".
_VERSION_LIKE = re.compile(r"v?\d{1,8}(?:[._+-][A-Za-z0-9]{1,16}){0,6}|[A-Za-z][A-Za-z0-9_-]{0,23}")
_HASHED = re.compile(r"sha256:[0-9a-f]{16}")
# Keys whose values are submitter-chosen text in ledger events (at any depth).
FREE_TEXT_KEYS = frozenset({"job_name", "project", "approval", "export_approval"})


def text_problem(value: str, *, max_chars: int = MAX_NAME_CHARS) -> str | None:
    """Why ``value`` is not an acceptable free-text identifier, or None. Never quotes it."""
    if len(value) > max_chars:
        return f"longer than {max_chars} characters"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value):
        return "contains control or invisible characters (newlines, tabs, bidi marks...)"
    if not NAME_PATTERN.fullmatch(value):
        return "may hold only letters, digits and . _ : @ + / - (starting with a letter or digit)"
    return None


def _label(kind: str, value: str) -> str:
    # Itself a valid name (see NAME_PATTERN), so scrubbing a scrubbed value changes nothing.
    return f"scrubbed:{kind}:{sha256_hex(value)[:12]}"


def scrub_free_text(value: str) -> str:
    """``value`` with every credential, JWT and personal-data value the scanner's detectors
    find replaced by ``scrubbed:<kind>:<sha256 prefix>``."""
    hits: list[tuple[str, str]] = [("secret", m.value) for m in find_secrets(value)]
    hits += [("jwt", m.group(0)) for m in _JWT.finditer(value)]
    for kind, values in find_personal_data(value).items():
        label = kind.split(" ")[0].lower().replace("-like", "")
        hits += [(f"pii-{label}", item) for item in values]
    # Longest first, so a value is never half-replaced by a shorter one inside it.
    for kind, found in sorted(hits, key=lambda hit: len(hit[1]), reverse=True):
        if found and found in value:
            value = value.replace(found, _label(kind, found))
    return value


def safe_text(value: str, *, max_chars: int = MAX_NAME_CHARS) -> str:
    """A free-text value fit for output: scrubbed, or only its hash if it breaks the policy.
    Idempotent: ``safe_text(safe_text(x)) == safe_text(x)``."""
    if text_problem(value, max_chars=max_chars) is not None:
        return f"sha256:{sha256_hex(value)[:16]}"
    return scrub_free_text(value)


def opaque_version(value: str) -> str:
    """A dataset version in clear only when it looks like one; otherwise its hash (the
    dataset's SHA-256 identifies the data, so nothing is lost). Idempotent."""
    if _HASHED.fullmatch(value):
        return value
    if _VERSION_LIKE.fullmatch(value) and scrub_free_text(value) == value:
        return value
    return f"sha256:{sha256_hex(value)[:16]}"


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
        """Strictly scrub every string inside a JSON-like value (used for ledger events);
        submitter-chosen text (``FREE_TEXT_KEYS``, a dataset's name and version) also goes
        through :func:`safe_text` / :func:`opaque_version`."""
        if isinstance(value, str):
            return self.scrub(value, strict=True)
        if isinstance(value, list | tuple):
            return [self.scrub_obj(item) for item in value]
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if key in FREE_TEXT_KEYS and isinstance(item, str):
                    item = safe_text(item)
                elif key == "dataset" and isinstance(item, dict):
                    item = _dataset_text(item)
                out[key] = self.scrub_obj(item)
            return out
        return value

    def leaks(self, text: str) -> list[str]:
        """Labels of registered values (or JWT-shaped strings) still present in ``text``."""
        found = sorted({label for label, value in self._values if value and value in text})
        if _JWT.search(text):
            found.append("jwt")
        return found


def _dataset_text(dataset: dict[str, Any]) -> dict[str, Any]:
    out = dict(dataset)
    if isinstance(out.get("name"), str):
        out["name"] = safe_text(out["name"])
    if isinstance(out.get("version"), str):
        out["version"] = opaque_version(out["version"])
    return out


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

"""What the OSCAL modules share: qgov's property namespace, deterministic UUIDs, text made to
fit OSCAL's string types and Markdown fields, and time stamps."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any
from urllib.parse import quote

from scanner import __version__
from scanner.model import printable
from scanner.reports.markdown import code_span

# Names of qgov's own props (status values OSCAL lacks, rule ids, fingerprints …) live here.
OSCAL_NS = "https://qgov.dev/ns/oscal"
_NS_UUID = uuid.uuid5(uuid.NAMESPACE_URL, OSCAL_NS)
# qgov as an assessment tool: the same subject in every document, so the same UUID.
TOOL_UUID = str(uuid.uuid5(_NS_UUID, "component\0qgov"))
TOOL_ORIGIN = {"actors": [{"type": "tool", "actor-uuid": TOOL_UUID}]}
TOOL_TITLE = f"qgov {__version__}"

# A subset of OSCAL's token type (``^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$``) in ASCII.
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
# What Markdown reads as code, HTML, an entity or a link; escaped in text qgov writes
# around values from files (reasons, details), so no value can add markup.
_MARKUP = re.compile(r"([\\`<>\[\]&])")


class Ids:
    """Version-5 UUIDs under one document's UUID: the same inputs give the same UUIDs,
    and no two documents share one."""

    def __init__(self, seed: str) -> None:
        self.root = uuid.uuid5(_NS_UUID, seed)

    @property
    def document(self) -> str:
        return str(self.root)

    def __call__(self, *parts: str) -> str:
        return str(uuid.uuid5(self.root, "\0".join(parts)))


def line(text: str) -> str:
    """One line without leading or trailing whitespace (OSCAL's markup-line and string
    types forbid newlines, and strings may not start or end with whitespace)."""
    return " ".join(text.replace("\ufeff", " ").split())


def code(text: str) -> str:
    """A value from a scanned or user-supplied file (path, message, evidence, statement) in
    a Markdown field: one code span, so nothing in it is read as Markdown or HTML."""
    return code_span(printable(text, path=False), table=False, limit=None)


def escaped(text: str) -> str:
    """qgov's own text with values embedded (reasons, details): Markdown-escaped."""
    return _MARKUP.sub(r"\\\1", printable(text, path=False))


def href(path: str) -> str:
    """A relative file path as a URI reference (percent-encoded: spaces, quotes, ``:``,
    ``#`` and escapes of unprintable characters cannot change what it points to)."""
    return quote(printable(path), safe="/")


def is_token(text: str) -> bool:
    return _TOKEN.fullmatch(text) is not None


def prop(name: str, value: object, *, cls: str | None = None) -> dict[str, Any] | None:
    """A prop in qgov's namespace; None when the value is empty once made one line."""
    text = line(str(value))
    if not text:
        return None
    entry: dict[str, Any] = {"name": name, "ns": OSCAL_NS, "value": text}
    if cls is not None and is_token(cls):
        entry["class"] = cls
    return entry


def props(*entries: dict[str, Any] | None) -> list[dict[str, Any]] | None:
    kept = [entry for entry in entries if entry is not None]
    return kept or None


def compact(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` without None and empty lists (OSCAL arrays hold at least one item)."""
    return {key: value for key, value in fields.items() if value is not None and value != []}


def stamp(moment: dt.datetime) -> str:
    # The form trestle writes date-times in, so every stamp in the document looks alike.
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat()


def day_stamp(day: dt.date) -> str | None:
    """Midnight UTC of ``day``; None for years OSCAL's date-time pattern refuses."""
    if not 1900 <= day.year <= 2999:
        return None
    return stamp(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC))


def parsed_stamp(text: str) -> str | None:
    """An ISO 8601 time from another file (UTC when it names no zone), or None."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return stamp(moment) if 1900 <= moment.astimezone(dt.UTC).year <= 2999 else None

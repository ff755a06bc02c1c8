"""Personal data in committed datasets and logs (QG-DAT-001): CSV/TSV tables, JSON lines,
``.log``/``.out`` files and text dumps (``FileKind.DATASET``).

Data files can be large, so only a sample is read: the first ``SAMPLE_LINES`` lines and at
most ``SAMPLE_CHARS`` characters, cut at a line end; a finding says when the file was
sampled. Detection is ``scanner.detectors.pii`` in strict mode (numbers are everywhere in
data: version strings, dates, UUIDs, ids and measurements must not read as phone or card
numbers). One issue per file and kind of data, at the first occurrence's line, with the
first value masked and the counts in the message; the fingerprint is the rule, the path
and the kind, so it survives edits to the rows.

The secrets detector, which reads every text file, runs this on dataset files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from scanner.detectors.pii import CARD, EMAIL, scan_personal_data
from scanner.model import Confidence, Issue
from scanner.source import SourceFile

DATASET_RULE = "QG-DAT-001"
SAMPLE_LINES = 5_000
SAMPLE_CHARS = 256 * 1024

_LOG_SUFFIXES = frozenset({".log", ".out"})
_TABLE_SUFFIXES = frozenset({".csv", ".tsv", ".jsonl", ".ndjson"})
# Exact shapes; SSN-like and phone numbers can still be something else.
_SURE = frozenset({EMAIL, CARD})


def sample(text: str) -> str:
    """The first ``SAMPLE_LINES`` lines of ``text``, at most ``SAMPLE_CHARS`` characters,
    ending at a line end when the text goes on."""
    head = text[:SAMPLE_CHARS]
    end = -1
    for _line in range(SAMPLE_LINES):
        end = head.find("\n", end + 1)
        if end == -1:
            break
    else:
        return head[: end + 1]
    if len(head) == len(text):
        return head
    last = head.rfind("\n")
    return head[: last + 1] if last != -1 else head


def _what(path: str) -> str:
    name = PurePosixPath(path).name.lower()
    suffix = PurePosixPath(name).suffix
    if suffix in _LOG_SUFFIXES or ".log." in name or name.endswith("log.txt"):
        return "Log file"
    if suffix in _TABLE_SUFFIXES:
        return "Dataset"
    return "Data file"


def dataset_issues(source: SourceFile) -> Iterator[Issue]:
    text = source.text
    read = sample(text)
    if len(read) < len(text):
        lines = read.count("\n")
        where = (
            f" in the first {lines:,} line(s) read ({len(read) // 1024:,} KiB of "
            f"{len(text) // 1024:,} KiB: the file was sampled, the rest not read)"
        )
    else:
        where = ""
    what = _what(source.path)
    for entry in scan_personal_data(read, strict=True):
        distinct = len(entry.values)
        times = "" if entry.occurrences == distinct else f" in {entry.occurrences:,} places"
        yield Issue(
            DATASET_RULE,
            f"{what} committed with personal data: {distinct:,} distinct {entry.kind}"
            f"{times}{where}. Data files travel with every clone and stay in the history; "
            "use synthetic or masked records and keep real data in governed storage",
            line=source.line_of(entry.first_offset),
            material=entry.kind,
            secret=entry.values[0],
            confidence=Confidence.HIGH if entry.kind in _SURE else Confidence.MEDIUM,
        )

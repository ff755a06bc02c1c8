"""Across files: the same credential in several environments or for several vendors.

A cross-file stage in the parent, after detection and before findings are built. It reads
the credential values detectors reported (``Issue.secret``), keeps only a SHA-256 of each,
and groups the places holding the same value. A place is a file (and the vendor the value
serves there). Its environment comes from the policy's ``environments`` credential
references when one names the file, else from the words of its path and name (``dev``,
``test``, ``staging``, ``prod``/``production``, ``regulated``: ``config/prod/app.env``,
``.env.production``, ``values-dev.yaml``). Its vendor comes from the rule that found the
value (an IonQ key, an AWS key …) or else from the variable name on the line (``IONQ_*``,
``DWAVE_*``, ``QISKIT_IBM_*``, ``AWS_*``, ``AZURE_*`` …).

A group spanning two known environments or two known vendors gets one ``QG-SEC-019``
finding per place beyond the first, at that place's line, naming the other places by path;
the first place is the least sensitive one (unknown, then dev, test, staging, prod,
regulated), so findings land where a credential of its own is most needed.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from scanner.model import Issue, Severity, printable

SHARED_CREDENTIAL = "QG-SEC-019"
CORRELATE_RULES = frozenset({SHARED_CREDENTIAL})

# Environment words in paths and file names, and how sensitive each environment is.
_ENVIRONMENT_WORDS = {
    "dev": "dev", "develop": "dev", "development": "dev", "local": "dev", "sandbox": "dev",
    "test": "test", "tests": "test", "testing": "test", "qa": "test",
    "staging": "staging", "stage": "staging", "uat": "staging", "preprod": "staging",
    "prod": "prod", "production": "prod", "prd": "prod", "live": "prod",
    "regulated": "regulated",
}
# The policy's environment names, in the same words.
_POLICY_ENVIRONMENTS = {"dev": "dev", "test": "test", "regulated-pilot": "regulated",
                        "production": "prod"}
_RANK = {None: 0, "dev": 1, "test": 2, "staging": 3, "prod": 4, "regulated": 5}
_SENSITIVE = frozenset({"prod", "regulated"})
_WORD = re.compile(r"[A-Za-z0-9]{1,40}")

# Who issued a credential, by the rule that recognised its format.
_RULE_VENDORS = {
    "QG-SEC-001": "IBM", "QG-SEC-002": "IBM", "QG-SEC-003": "IBM",
    "QG-SEC-004": "AWS", "QG-SEC-005": "AWS",
    "QG-SEC-006": "Azure", "QG-SEC-007": "Azure",
    "QG-SEC-008": "IonQ", "QG-SEC-009": "D-Wave", "QG-SEC-011": "Pasqal",
}
# ... else by the variable name it is assigned to (the first such name on its line).
_NAME_VENDORS = {
    "qiskit_ibm": "IBM", "ibm_quantum": "IBM", "ibmq": "IBM", "qe": "IBM", "ibm": "IBM",
    "aws": "AWS", "amzn_braket": "AWS", "braket": "AWS",
    "azure_quantum": "Azure", "azure": "Azure",
    "ionq": "IonQ", "dwave": "D-Wave", "pasqal": "Pasqal", "qcs": "Rigetti",
    "rigetti": "Rigetti", "qnexus": "Quantinuum", "quantinuum": "Quantinuum",
    "iqm": "IQM", "oqc": "OQC", "google": "Google",
}
VENDOR_NAME = re.compile(
    r"(?i)(?<![A-Za-z0-9_])(?P<vendor>qiskit_ibm|ibm_quantum|ibmq|qe|ibm|amzn_braket|braket|aws"
    r"|azure_quantum|azure|ionq|dwave|pasqal|qcs|rigetti|qnexus|quantinuum|iqm|oqc|google)"
    r"_[A-Za-z0-9_]{1,60}"
)
# Names are near the start of a line; a 100,000-character line is not read to its end.
_NAME_WINDOW = 1000
_SHOWN_PLACES = 4

LineText = Callable[[str, int], str]


@dataclass(frozen=True)
class _Place:
    path: str
    line: int | None
    cell: int | None
    environment: str | None
    vendor: str | None

    def describe(self) -> str:
        where = printable(self.path) + (f":{self.line}" if self.line else "")
        facts = [f for f in (self.environment, f"for {self.vendor}" if self.vendor else "") if f]
        return where + (f" ({', '.join(facts)})" if facts else "")


def environment_of(path: str, references: Sequence[tuple[str, str]] = ()) -> str | None:
    """The environment a file belongs to: named by the policy, else by its path's words (the
    file name first, then its folders from the innermost out)."""
    for reference, environment in references:
        ref = reference.strip().removeprefix("./")
        if ref and (path == ref or path.endswith("/" + ref) or fnmatch.fnmatchcase(path, ref)):
            return _POLICY_ENVIRONMENTS.get(environment, environment)
    for part in reversed(PurePosixPath(path).parts):
        for word in _WORD.findall(part):
            found = _ENVIRONMENT_WORDS.get(word.lower())
            if found:
                return found
    return None


def vendor_of(issue: Issue, line: str) -> str | None:
    if issue.rule_id in _RULE_VENDORS:
        return _RULE_VENDORS[issue.rule_id]
    match = VENDOR_NAME.search(line[:_NAME_WINDOW])
    return _NAME_VENDORS[match.group("vendor").lower()] if match else None


def shared_credentials(
    issues: Iterable[Issue], line_text: LineText, references: Sequence[tuple[str, str]] = ()
) -> list[Issue]:
    """``QG-SEC-019`` issues for every credential value found in several environments or
    for several vendors. ``line_text(path, line)`` gives a line of a scanned file."""
    groups: dict[str, dict[tuple[str, str | None], _Place]] = {}
    for issue in issues:
        if issue.path is None:
            continue
        if issue.secret is not None:
            value = issue.secret.strip().encode("utf-8", "surrogatepass")
            digest = hashlib.sha256(value).hexdigest()
        elif issue.sealed is not None and issue.sealed.secret_sha256:  # from the cache
            digest = issue.sealed.secret_sha256
        else:
            continue
        line = line_text(issue.path, issue.line) if issue.line else ""
        place = _Place(issue.path, issue.line, issue.cell, environment_of(issue.path, references),
                       vendor_of(issue, line))
        places = groups.setdefault(digest, {})
        known = places.get((place.path, place.vendor))
        if known is None or (place.line or 0) < (known.line or 0):
            places[(place.path, place.vendor)] = place
    found: list[Issue] = []
    for digest, places in sorted(groups.items()):
        found.extend(_group_issues(digest, _merge(places.values())))
    return found


def _merge(places: Iterable[_Place]) -> list[_Place]:
    """A file's place without a vendor goes when the same file names one."""
    listed = list(places)
    named = {p.path for p in listed if p.vendor}
    kept = [p for p in listed if p.vendor or p.path not in named]
    return sorted(kept, key=lambda p: (_RANK[p.environment], p.path, p.line or 0))


def _group_issues(digest: str, places: list[_Place]) -> Iterator[Issue]:
    environments = {p.environment for p in places if p.environment}
    vendors = {p.vendor for p in places if p.vendor}
    if len(places) < 2 or (len(environments) < 2 and len(vendors) < 2):
        return
    spans = " and ".join(
        what for what, many in (("environments", len(environments) > 1),
                                ("vendors", len(vendors) > 1)) if many
    )
    into_production = bool(environments & _SENSITIVE) and len(environments) > 1
    severity = Severity.HIGH if into_production or len(vendors) > 1 else Severity.MEDIUM
    for place in places[1:]:
        others = [p for p in places if p is not place]
        shown = ", ".join(p.describe() for p in others[:_SHOWN_PLACES])
        if len(others) > _SHOWN_PLACES:
            shown += f" and {len(others) - _SHOWN_PLACES} more"
        here = ", ".join(f for f in (place.environment,
                                     f"for {place.vendor}" if place.vendor else "") if f)
        yield Issue(
            rule_id=SHARED_CREDENTIAL,
            message=(f"The credential here{f' ({here})' if here else ''} is the same value, "
                     f"compared by hash, as in {shown}: one credential shared across {spans}, "
                     "so a leak anywhere reaches all of them"),
            line=place.line,
            cell=place.cell,
            path=place.path,
            severity=severity,
            evidence=f"sha256:{digest[:8]}",
            material=f"{digest}\x00{place.environment}\x00{place.vendor}",
        )

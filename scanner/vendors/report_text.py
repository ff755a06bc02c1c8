"""Plain-text reports for ``qgov vendor assess`` and ``qgov vendor compare``, readable at 100
columns. The comparison keeps to one line per requirement for up to six vendors: a cell is a
symbol, the severity letter of a gap at the tier, and a few characters of the answer.

Terminals that cannot show ✓ ✗ – get ASCII (``Symbols.ascii()``); the meaning is the same.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scanner.model import Severity, printable
from scanner.vendors.assess import Assessment, Outcome
from scanner.vendors.compare import Comparison, Summary, Verdict, summarize
from scanner.vendors.requirements import Status

WIDTH = 100
LABEL_WIDTH = 30
CELL_WIDTH = 10
SHORT_WIDTH = 7
VENDOR_KEYS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

SEVERITY_LETTER = {
    Severity.CRITICAL: "C",
    Severity.HIGH: "H",
    Severity.MEDIUM: "M",
    Severity.LOW: "L",
    Severity.INFO: "I",
}


@dataclass(frozen=True)
class Symbols:
    met: str = "✓"
    gap: str = "✗"
    not_stated: str = "?"
    not_needed: str = "–"
    dash: str = "—"
    dot: str = "·"
    ellipsis: str = "…"

    @classmethod
    def ascii(cls) -> Symbols:
        return cls(met="+", gap="x", not_stated="?", not_needed="-", dash="-", dot="|",
                   ellipsis=".")

    def status(self, status: Status) -> str:
        return {
            Status.MET: self.met,
            Status.GAP: self.gap,
            Status.NOT_STATED: self.not_stated,
            Status.NOT_NEEDED: self.not_needed,
        }[status]


def _text(value: str) -> str:
    return printable(value, path=False)


def _wrap(text: str, indent: int, hang: int = 0, width: int = WIDTH) -> list[str]:
    pad = " " * indent
    return textwrap.wrap(_text(text), width=width, initial_indent=pad,
                         subsequent_indent=pad + " " * hang, break_on_hyphens=False) or [pad]


def _counts(summary: Summary) -> str:
    parts = [f"{n} {s.value}" for s, n in sorted(summary.by_severity.items(),
                                                 key=lambda kv: -kv[0].rank)]
    return ", ".join(parts) if parts else "none"


def _vendor_line(assessment: Assessment, symbols: Symbols) -> str:
    vendor = assessment.vendor
    product = f" {symbols.dash} {vendor.product}" if vendor.product else ""
    return _text(f"{vendor.name}{product}")


def _facts(assessment: Assessment, symbols: Symbols) -> str:
    vendor = assessment.vendor
    facts = [f"profile {vendor.profile_date}" if vendor.profile_date else "profile undated"]
    if vendor.fictional:
        facts.append("fictional")
    if assessment.regions:
        facts.append("regions " + ", ".join(assessment.regions))
    return f" {symbols.dot} ".join(_text(f) for f in facts)


def _data(assessment: Assessment) -> str:
    return ", ".join(d.value for d in assessment.data) or "none declared"


# --- qgov vendor assess -------------------------------------------------------------------------


def render_assessments(assessments: Sequence[Assessment], symbols: Symbols | None = None) -> str:
    symbols = symbols or Symbols()
    lines: list[str] = []
    for assessment in assessments:
        lines.extend(_assessment(assessment, symbols))
        lines.append("")
    if len(assessments) > 1:
        verdicts = [summarize(a).verdict for a in assessments]
        tier = assessments[0].tier.value
        approvable = sum(1 for v in verdicts if v is not Verdict.NOT_APPROVABLE)
        lines.append(f"{approvable} of {len(assessments)} vendors approvable at {tier}.")
    return "\n".join(lines).rstrip("\n") + "\n"


def _assessment(assessment: Assessment, symbols: Symbols) -> list[str]:
    summary = summarize(assessment)
    dot = symbols.dot
    lines = [
        _vendor_line(assessment, symbols),
        *_wrap(f"file {assessment.source} {dot} {_facts(assessment, symbols)}", 2),
        f"  tier {assessment.tier.value} {dot} assessed {assessment.today} {dot} data: "
        f"{_data(assessment)}",
        *_wrap(f"Verdict: {summary.verdict.value.upper()} {dot} score {summary.score} {dot} met "
               f"{summary.met} of {summary.applicable} {dot} {_plural(summary.gaps, 'gap')}, "
               f"{summary.not_stated} not stated ({_counts(summary)})", 2, 9),
    ]
    for outcome in assessment.gaps:
        lines.append("")
        lines.extend(_gap(outcome, symbols))
    met = [o.title for o in assessment.outcomes if o.status is Status.MET]
    not_needed = [o.title for o in assessment.outcomes if o.status is Status.NOT_NEEDED]
    if met:
        lines.append("")
        lines.extend(_wrap(f"{symbols.met} Met ({len(met)}): " + ", ".join(met), 2))
    if not_needed:
        lines.extend(_wrap(f"{symbols.not_needed} Not needed ({len(not_needed)}): "
                           + ", ".join(not_needed), 2))
    return lines


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _frameworks(outcome: Outcome) -> str:
    return "; ".join(f"{key}: {', '.join(ids)}" for key, ids in outcome.frameworks.items())


def _gap(outcome: Outcome, symbols: Symbols) -> list[str]:
    assert outcome.severity is not None
    what = "not stated" if outcome.status is Status.NOT_STATED else "gap"
    where = f"line {outcome.line} {symbols.dot} " if outcome.line else ""
    head = f"  {symbols.status(outcome.status)} {outcome.severity.value.upper():<8} {outcome.title}"
    tail = f"{what} {symbols.dot} {where}{outcome.rule_id}"
    lines = [head + " " * max(1, WIDTH - len(head) - len(tail)) + tail]
    lines.extend(_wrap(outcome.detail, 5))
    lines.extend(_wrap(f"Asked: {outcome.question}", 5))
    lines.extend(_wrap(f"Controls: {', '.join(outcome.controls)}", 5))
    if outcome.frameworks:
        lines.extend(_wrap(f"Frameworks: {_frameworks(outcome)}", 5))
    if outcome.compensating:
        lines.append("     Compensating controls:")
        for control in outcome.compensating:
            lines.extend(_bullet(control, 7))
    risk = outcome.risk
    if risk is not None:
        lines.append(f"     Risk register: {risk.id}")
        lines.extend(_wrap(f"title: {risk.title}", 7))
        lines.extend(_wrap(f"owner: {risk.owner} {symbols.dot} severity {risk.severity.value} "
                           f"{symbols.dot} review by {risk.review_date}", 7))
        lines.extend(_wrap(f"treatment: {risk.treatment}", 7))
        lines.extend(_wrap(f"description: {risk.description}", 7))
    return lines


def _bullet(text: str, indent: int) -> list[str]:
    wrapped = _wrap(text, indent + 2)
    wrapped[0] = " " * indent + "- " + wrapped[0].lstrip()
    return wrapped


# --- qgov vendor compare ------------------------------------------------------------------------


def _cell(status: Status, severity: Severity | None, short: str, symbols: Symbols) -> str:
    letter = SEVERITY_LETTER[severity] if severity is not None else ""
    text = f"{symbols.status(status)}{letter}"
    if short:
        text += " " + _text(short)[:SHORT_WIDTH]
    return text[:CELL_WIDTH]


def _fit(name: str, symbols: Symbols) -> str:
    return name if len(name) <= CELL_WIDTH else name[: CELL_WIDTH - 1].rstrip() + symbols.ellipsis


def _row(label: str, cells: Iterable[str], indent: int = 0) -> str:
    head = (" " * indent + label)[: LABEL_WIDTH + 2].ljust(LABEL_WIDTH + 2)
    return (head + " ".join(c.ljust(CELL_WIDTH) for c in cells)).rstrip()


def render_comparison(comparison: Comparison, symbols: Symbols | None = None) -> str:
    symbols = symbols or Symbols()
    dot = symbols.dot
    assessments = comparison.assessments
    keys = [VENDOR_KEYS[i % len(VENDOR_KEYS)] for i in range(len(assessments))]
    data = sorted({d.value for a in assessments for d in a.data})
    lines = [
        f"Vendor comparison {dot} tier {comparison.tier.value} {dot} {comparison.today} {dot} "
        f"data: {', '.join(data) or 'none declared'}",
        "",
    ]
    for key, assessment in zip(keys, assessments, strict=True):
        lines.extend(_wrap(f"{key}  {_vendor_line(assessment, symbols)}", 2, 3))
        lines.extend(_wrap(f"{_facts(assessment, symbols)} {dot} {assessment.source}", 5))
    lines.append("")
    summaries = comparison.summaries
    lines.append(_row("", keys))
    lines.append(_row("", (_fit(_text(a.vendor.name), symbols) for a in assessments)))
    lines.append(_row("Verdict", (s.verdict.short for s in summaries)))
    lines.append(_row("Score (0-100)", (str(s.score) for s in summaries)))
    lines.append(_row("Met (of applicable)", (f"{s.met}/{s.applicable}" for s in summaries)))
    lines.append(_row("Blocking gaps (high+)", (str(len(s.blocking)) for s in summaries)))
    lines.append(_row("Other gaps to record",
                      (str(len(s.to_record) - len(s.blocking)) for s in summaries)))
    family = None
    for row in comparison.rows:
        if row.family != family:
            family = row.family
            lines.append("")
            lines.append(family)
        lines.append(_row(row.title, (_cell(c.status, c.severity, c.short, symbols)
                                      for c in row.cells), indent=2))
    lines.append("")
    lines.extend(_decisions(comparison, keys, symbols))
    lines.append("")
    lines.extend(_legend(symbols))
    return "\n".join(lines) + "\n"


def _decisions(comparison: Comparison, keys: Sequence[str], symbols: Symbols) -> list[str]:
    lines = [f"Decision at {comparison.tier.value}"]
    for key, assessment, summary in zip(keys, comparison.assessments, comparison.summaries,
                                        strict=True):
        name = _text(assessment.vendor.name)
        gaps = assessment.gaps
        blocking = [o for o in gaps if o.blocking]
        to_record = [o for o in gaps if not o.blocking and o.risk is not None]
        verdict = summary.verdict.value
        if blocking:
            lines.extend(_wrap(f"{key}  {name}: {verdict} {symbols.dash} blocked by:", 2, 3))
            shown = blocking
        elif to_record:
            lines.extend(_wrap(f"{key}  {name}: {verdict} {symbols.dash} record in the risk "
                               "register with compensating controls:", 2, 3))
            shown = to_record
        else:
            lines.extend(_wrap(f"{key}  {name}: {verdict}", 2, 3))
            shown = []
        for outcome in shown:
            assert outcome.severity is not None
            letter = SEVERITY_LETTER[outcome.severity]
            mark = f"{symbols.status(outcome.status)}{letter}"
            lines.extend(_bullet(f"{mark} {outcome.title}: {outcome.detail}", 5))
        rest = len(to_record) if blocking else 0
        if rest:
            lines.append(f"       and {rest} more gap(s) to record if the blocking ones are "
                         "resolved")
    return lines


def _legend(symbols: Symbols) -> list[str]:
    dot = symbols.dot
    return [
        f"Legend  {symbols.met} met   {symbols.gap} gap   {symbols.not_stated} not stated   "
        f"{symbols.not_needed} not needed for this tier and data",
        "        severity at this tier: C critical  H high  M medium  L low  I info",
        "        an unanswered question counts like a gap at regulated-pilot and "
        "production-critical,",
        "        one severity step lower at exploratory and internal-pilot",
        f"Verdict YES approvable {dot} YES+CC approvable with compensating controls (medium gaps "
        "go to the",
        f"        risk register) {dot} NO not approvable (any high or critical gap or unanswered "
        "question)",
    ]

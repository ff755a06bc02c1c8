"""The report's one status vocabulary: every status word a reader meets (a control's, a
requirement's, a self-test check's, an exception's …) with its label, symbol, CSS class and
chart pattern, so the same word looks the same on every page.

Colour never carries meaning alone: each status has a symbol and its words next to the
colour, and each has its own fill pattern (solid, hatched, dotted …) so a report printed in
greyscale still tells them apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from scanner.model import Severity
from scanner.status.statuses import ControlStatus, RequirementStatus


@dataclass(frozen=True)
class StatusStyle:
    key: str  # the status value; also the CSS class suffix and the SVG pattern id suffix
    label: str
    symbol: str
    meaning: str
    base: str  # the fill colour
    mark: str  # what is drawn over it: solid, diag, cross, dots, hlines, vlines
    mark_colour: str

    @property
    def edge(self) -> str:
        """A strong colour for the chip's edge (the fill itself may be pale)."""
        if self.mark == "solid":
            return self.base if self.base != "#d5d9e0" else "#8a94a4"
        return self.mark_colour if self.mark_colour != "#ffffff" else self.base

    @property
    def css_fill(self) -> str:
        """The same fill as a CSS background (legend swatches and chips)."""
        return css_fill(self.base, self.mark, self.mark_colour)


def css_fill(base: str, mark: str, colour: str) -> str:
    def lines(angle: int) -> str:
        return (f"repeating-linear-gradient({angle}deg, transparent 0, transparent 2px, "
                f"{colour} 2px, {colour} 3px)")

    layers = {
        "solid": [],
        "diag": [lines(45)],
        "cross": [lines(45), lines(-45)],
        "hlines": [lines(0)],
        "vlines": [lines(90)],
        "dots": [f"radial-gradient(circle, {colour} 30%, transparent 32%) 0 0/4px 4px"],
    }[mark]
    return ", ".join([*layers, base])


# Worst first, the order the roll-ups use (scanner.status.matrix, scanner.pack.rollup).
STATUSES: tuple[StatusStyle, ...] = (
    StatusStyle("failing", "failing", "✗",
                "an active (not suppressed) finding names the control", "#8b1a1a", "solid", ""),
    StatusStyle("control-test-failed", "control test failed", "✗",
                "a governed-job self-test check for the control failed",
                "#8b1a1a", "diag", "#ffffff"),
    StatusStyle("not-assessed", "not assessed", "?",
                "nothing checked it: no rule that can fail it ran, no self-test, no "
                "current attestation", "#fff1d6", "diag", "#b86e00"),
    StatusStyle("accepted-risk", "accepted risk", "!",
                "every finding is suppressed by an exception, a baseline or an inline "
                "directive", "#ece4f7", "cross", "#5b3a8e"),
    StatusStyle("attested", "attested", "✎",
                "a person states it in a current attestation, with evidence files",
                "#dceaf7", "dots", "#1f5f99"),
    StatusStyle("passing", "passing", "✓",
                "rules that can fail it ran and found nothing", "#4f9a5f", "solid", ""),
    StatusStyle("control-test-passed", "control test passed", "✓",
                "every governed-job self-test check for it passed", "#4f9a5f", "vlines",
                "#ffffff"),
    StatusStyle("not-applicable", "not applicable", "–",
                "the control does not apply at the repository's tier", "#d5d9e0", "solid", ""),
    StatusStyle("not-covered", "not covered", "∅",
                "no qgov control maps to the requirement", "#ffffff", "hlines", "#8a94a4"),
)
BY_KEY = {style.key: style for style in STATUSES}

# Requirement statuses in roll-up order, the order of the summary chart's segments.
REQUIREMENT_ORDER = tuple(status.value for status in (
    RequirementStatus.FAILING,
    RequirementStatus.NOT_ASSESSED,
    RequirementStatus.ACCEPTED_RISK,
    RequirementStatus.ATTESTED,
    RequirementStatus.PASSING,
    RequirementStatus.NOT_APPLICABLE,
    RequirementStatus.NOT_COVERED,
))
CONTROL_ORDER = tuple(status.value for status in (
    ControlStatus.FAILING,
    ControlStatus.CONTROL_TEST_FAILED,
    ControlStatus.NOT_ASSESSED,
    ControlStatus.ACCEPTED_RISK,
    ControlStatus.ATTESTED,
    ControlStatus.CONTROL_TEST_PASSED,
    ControlStatus.PASSING,
    ControlStatus.NOT_APPLICABLE,
))
SEVERITIES = tuple(s.value for s in sorted(Severity, key=lambda s: -s.rank))
# Severity chips: (background, text), each pair above 4.5:1 contrast; the word is always shown.
SEVERITY_COLOURS = {
    "critical": ("#7a0f1c", "#ffffff"),
    "high": ("#fbe1e1", "#8f1d1d"),
    "medium": ("#fdebd3", "#7a4100"),
    "low": ("#fbf5cf", "#5c4d00"),
    "info": ("#eceff3", "#3f4a5a"),
}

# Words of other sections, mapped onto the same look: a failed self-test check looks like a
# failing control, an expired exception like one, and so on.
OTHER_STATES = {
    "pass": "passing",
    "fail": "failing",
    "honoured": "accepted-risk",
    "expired": "failing",
    "incomplete": "not-assessed",
    "current": "attested",
    "lapsed": "failing",
    "not counted": "not-assessed",
}


def chip(status: str, label: str | None = None) -> dict[str, str]:
    """A status as the templates show it: ``{"key", "label", "symbol"}``."""
    key = OTHER_STATES.get(status, status)
    style = BY_KEY.get(key, BY_KEY["not-assessed"])
    return {"key": style.key, "label": label or style.label, "symbol": style.symbol}


def legend() -> list[dict[str, str]]:
    return [{"key": s.key, "label": s.label, "symbol": s.symbol, "meaning": s.meaning}
            for s in STATUSES]

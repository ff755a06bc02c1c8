"""The executive summary's chart: one stacked bar per framework, a segment per requirement
status, as plain geometry the template draws as inline SVG.

Everything here is numbers and our own status keys; the only text that reaches the SVG is
a framework's short label and the counts, which the template escapes like any other text.
Segments keep the legend's fill patterns, and each segment wide enough carries its count on
a white label, so the chart reads in greyscale; the table under it has every number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from scanner.pack.legend import REQUIREMENT_ORDER

WIDTH = 680
LABEL_WIDTH = 96  # the framework labels, left of the bars
TOTAL_WIDTH = 44  # the totals, right of the bars
BAR_HEIGHT = 22
GAP = 12
TOP = 4
AXIS = 16  # room under the bars for the scale
MIN_LABELLED = 22  # a segment narrower than this keeps its count to the table


@dataclass(frozen=True)
class Segment:
    status: str
    count: int
    x: float
    width: float
    labelled: bool

    @property
    def centre(self) -> float:
        return round(self.x + self.width / 2, 2)

    @property
    def label_width(self) -> float:
        return 6.5 * len(str(self.count)) + 6


@dataclass(frozen=True)
class Bar:
    label: str
    title: str
    total: int
    y: float
    segments: tuple[Segment, ...]

    @property
    def text_y(self) -> float:
        return round(self.y + BAR_HEIGHT / 2 + 4, 2)


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bar_x: int
    bar_width: int
    bar_height: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    axis_y: float


def requirement_chart(
    rows: Sequence[tuple[str, str, Mapping[str, int]]],
) -> Chart:
    """``rows``: (short label, full name, counts by requirement status) per framework. Each
    bar is the share of that framework's requirements (0-100 %), so frameworks of different
    sizes compare."""
    bar_x = LABEL_WIDTH
    bar_width = WIDTH - LABEL_WIDTH - TOTAL_WIDTH
    bars = []
    for index, (label, title, counts) in enumerate(rows):
        total = sum(counts.get(status, 0) for status in REQUIREMENT_ORDER)
        segments = []
        x = float(bar_x)
        for status in REQUIREMENT_ORDER:
            count = counts.get(status, 0)
            if count <= 0 or total == 0:
                continue
            width = bar_width * count / total
            segments.append(Segment(status, count, round(x, 2), round(width, 2),
                                    width >= max(MIN_LABELLED, 6.5 * len(str(count)) + 8)))
            x += width
        bars.append(Bar(label, title, total, TOP + index * (BAR_HEIGHT + GAP),
                        tuple(segments)))
    axis_y = TOP + len(rows) * (BAR_HEIGHT + GAP) - GAP + 4
    ticks = tuple(Tick(round(bar_x + bar_width * share / 100, 2), f"{share} %")
                  for share in (0, 25, 50, 75, 100))
    return Chart(
        width=WIDTH,
        height=int(axis_y + AXIS),
        bar_x=bar_x,
        bar_width=bar_width,
        bar_height=BAR_HEIGHT,
        bars=tuple(bars),
        ticks=ticks,
        axis_y=axis_y,
    )

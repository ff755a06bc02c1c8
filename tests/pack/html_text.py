"""Reading report.html back the way a browser would, for the report tests: every element
and attribute as parsed (to prove markup from input never became markup), the visible text,
and table rows as lists of cell texts."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class ParsedPage:
    elements: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)

    @property
    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())

    def tags(self) -> set[str]:
        return {tag for tag, _ in self.elements}


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = ParsedPage()
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._skip = 0  # inside <style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.page.elements.append((tag, values))
        if "id" in values:
            self.page.ids.append(values["id"])
        if tag == "style":
            self._skip += 1
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._skip -= 1
        elif tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join(" ".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.page.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.page.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def parse(html: str) -> ParsedPage:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser.page

"""report.pdf as a reader gets it, read back with pdftotext (poppler-utils): numbered pages,
a table of contents with page numbers, table headers repeated on every page a table spans,
scanned names shown as text, no secret value, and the same bytes for the same pack with the
dates taken from the pack's time (``SOURCE_DATE_EPOCH``)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from scanner.pack.html import render_report_html
from scanner.pack.model import PackData
from scanner.pack.pdf import render_pdf
from tests.pack.report_inputs import HOSTILE_FILE, HOSTILE_NAME, hostile_pack
from tests.pack.test_report_html import SAMPLE_SECRETS

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdfinfo") is None,
    reason="pdftotext and pdfinfo (poppler-utils) are not installed")


def pdf_pages(pdf: bytes, tmp: Path, *, raw: bool = False) -> list[str]:
    """The text of each page; ``raw``: in the order it is drawn, a table cell's lines
    together (the default reading order interleaves neighbouring cells)."""
    path = tmp / "report.pdf"
    path.write_bytes(pdf)
    mode = ["-raw"] if raw else []
    text = subprocess.run(["pdftotext", *mode, "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    return text.split("\f")[:-1]  # pdftotext ends every page with a form feed


def pdf_dates(pdf: bytes, tmp: Path) -> set[str]:
    """The creation and modification dates pdfinfo reads from the document information."""
    path = tmp / "dated.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", "-isodates", str(path)], check=True,
                          capture_output=True, text=True).stdout
    return set(re.findall(r"^(?:CreationDate|ModDate): +(\S+)$", info, re.M))


@pytest.fixture(scope="module")
def sample_pages(sample_pack: PackData, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    pdf = render_pdf(render_report_html(sample_pack), sample_pack)
    return pdf_pages(pdf, tmp_path_factory.mktemp("pdf"))


def test_every_page_is_numbered_and_the_contents_give_page_numbers(
    sample_pages: list[str],
) -> None:
    total = len(sample_pages)
    assert total > 10
    for number, page in enumerate(sample_pages, start=1):
        assert f"page {number} of {total}" in page, number
    contents_index = next(n for n, page in enumerate(sample_pages) if "\nContents\n" in page)
    entries = re.findall(r"^(\d+ [^.\n]*?) ?[ .]+(\d+)$", sample_pages[contents_index], re.M)
    assert len(entries) == 11
    for title, page in entries:
        # The page the contents give is the first on which the section's title appears.
        first = next(n for n, text in enumerate(sample_pages, start=1)
                     if n != contents_index + 1 and title in " ".join(text.split()))
        assert int(page) == first, title


def test_long_tables_repeat_their_header_on_every_page(sample_pages: list[str]) -> None:
    # The GDPR requirement matrix runs over several pages; each of them starts with its header.
    gdpr = [page for page in sample_pages if re.search(r"^Art\. \d+$", page, re.M)
            and "HIPAA Security Rule" not in page.split("Art.")[0]]
    assert len(gdpr) >= 3
    for page in gdpr:
        assert "Covering controls" in page


def test_the_pdf_text_holds_no_secret_and_the_masked_evidence(sample_pages: list[str]) -> None:
    text = "\n".join(sample_pages)
    for secret in SAMPLE_SECRETS:
        assert secret not in text.replace("\n", "")
    assert "Z8Uz…[32 chars," in text.replace("\n", " ")


def test_scanned_names_print_as_text(tmp_path: Path) -> None:
    data = hostile_pack(tmp_path)
    text = "".join(pdf_pages(render_pdf(render_report_html(data), data), tmp_path, raw=True))
    flat = "".join(text.split())
    assert "".join(HOSTILE_FILE.split()) in flat
    assert "".join(HOSTILE_NAME.split()) in flat
    assert "Z8UzDzV8fUkkibjL5DZPjN0MEQ7wjJJq" not in flat


def test_same_pack_same_bytes_dated_by_source_date_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z
    data = hostile_pack(tmp_path, now=None)
    assert data.generated_at == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    html = render_report_html(data)
    first = render_pdf(html, data)
    assert render_pdf(html, data) == first
    assert pdf_dates(first, tmp_path) == {"2026-01-01T00:00:00Z"}
    # Another moment gives other dates: the dates do come from the pack's time.
    later = replace(data, generated_at=dt.datetime(2026, 2, 1, tzinfo=dt.UTC))
    other = render_pdf(render_report_html(later), later)
    assert pdf_dates(other, tmp_path) == {"2026-02-01T00:00:00Z"}
    assert other != first

"""report.pdf: report.html rendered with WeasyPrint, reproducibly: the creation and
modification dates are the pack's own time (``PackData.generated_at``, which
``SOURCE_DATE_EPOCH`` pins) and the document identifier is derived from the HTML, so the
same pack gives the same bytes. Page numbers, running headers, the contents' page numbers
and repeated table headers come from the print rules in ``report_templates/pack/report.css``.
"""

from __future__ import annotations

import hashlib

from scanner.pack.model import PackData


def render_pdf(html: str, data: PackData) -> bytes:
    from weasyprint import HTML  # heavy: imported only when a PDF is made

    # The identifier is derived from the content, so the same pack gives the same bytes.
    identifier = hashlib.sha256(html.encode("utf-8")).hexdigest()[:32].encode("ascii")
    document = HTML(string=html, base_url=None).render()
    document.metadata.title = data.title
    document.metadata.created = data.generated_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    document.metadata.modified = document.metadata.created
    document.metadata.generator = f"qgov {data.tool_version}"
    pdf = document.write_pdf(pdf_identifier=identifier)
    assert isinstance(pdf, bytes)
    return pdf

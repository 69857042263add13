"""HTML documents to one PDF (WeasyPrint), offline.

Documents are self-contained: their CSS is inline, images are inline SVG or `data:` URLs,
fonts are the system's (DejaVu). The fetcher allows `data:` URLs only, so rendering
never reaches the network or the file system, whatever a template or a stored letter says.
WeasyPrint needs Pango (Debian: `libpango-1.0-0 libpangoft2-1.0-0`, see README).
"""

from collections.abc import Sequence

from weasyprint import HTML
from weasyprint.urls import URLFetcher


def pdf_from_html(documents: Sequence[str]) -> bytes:
    """One PDF of every document in turn, each starting on a new page."""
    if not documents:
        raise ValueError("no document to render")
    fetcher = URLFetcher(allowed_protocols=("data",))
    rendered = [HTML(string=doc, url_fetcher=fetcher).render() for doc in documents]
    pages = [page for doc in rendered for page in doc.pages]
    return rendered[0].copy(pages).write_pdf()

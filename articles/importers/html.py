"""A saved web page (.html): trafilatura finds the article; title, byline, date, url and site come along.

Navigation, related-story lists and the site footer are dropped. Paragraphs inside the article are kept,
sponsored ones included: they are what editors label as SPONSORED. trafilatura's default balance keeps them
(tests/fixtures/html: a vendor paragraph closing a syndicated story survives with the defaults, with
``favor_recall`` and with ``favor_precision`` alike), so the defaults stay: recall mode only pulls in more
page furniture, such as the copyright line of a page that has no article.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from articles.importers import ArticleRecord, ImportFailure, check_record, clean_text, parse_published
from articles.validation import language_tag

MIN_WORDS = 10
# htmldate's default output is the day only; with the time the article sorts right among wire stories.
DATE_PARAMS = {"extensive_search": False, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}


def read(path: Path, data: bytes | None = None) -> Iterator[ArticleRecord]:
    # Imported here: trafilatura brings lxml and date parsers that only an HTML import needs.
    import trafilatura

    data = path.read_bytes() if data is None else data
    if b"\x00" in data:
        raise ImportFailure(path, None, "this is not an HTML page (it contains NUL bytes)")
    # trafilatura detects the encoding from the bytes and the page's <meta charset>.
    tree = trafilatura.load_html(data)
    if tree is None:
        raise ImportFailure(path, None, "could not parse the file as HTML")
    # A page's lang attribute is often sloppy (en_US, "english"): keep it normalised, or not at all.
    language = language_tag(tree.get("lang") or "") or ""
    document = trafilatura.bare_extraction(
        tree,
        url=None,
        include_comments=False,
        include_tables=True,
        with_metadata=True,
        date_extraction_params=DATE_PARAMS,
    )
    text = clean_text(document.text if document else "", path=path, line=None, name="article text")
    # A page without an article still yields its menu ("News Reviews") or copyright line; no story is that short.
    if len(text.split()) < MIN_WORDS:
        raise ImportFailure(path, None, "no article text found on the page")
    title = " ".join((document.title or "").split())
    # The headline is usually the first paragraph of the extracted text too; keep it in the title only.
    first, _, rest = text.partition("\n")
    if title and " ".join(first.split()) == title and rest.strip():
        text = rest
    if not title:
        title = " ".join(first.split())[:200]
    url = document.url if document.url and document.url.lower().startswith(("http://", "https://")) else None
    yield check_record(
        ArticleRecord(
            title=title[:500],
            # trafilatura puts one paragraph per line; the corpus separates paragraphs with a blank line.
            body="\n\n".join(p.strip() for p in text.split("\n") if p.strip()),
            location=f"{path}:1",
            url=url,
            source=document.hostname or None,
            byline=(document.author or "")[:300],
            published_at=_published(document.date, path=path),
            language=language,
            metadata={"extracted_with": "trafilatura"} | ({"sitename": document.sitename} if document.sitename else {}),
        )
    )


def _published(value: str | None, *, path: Path):
    if not value:
        return None
    try:
        return parse_published(value, path=path, line=None)
    except ImportFailure:
        # A page date htmldate misreads is no reason to refuse the article; it simply has no date.
        return None

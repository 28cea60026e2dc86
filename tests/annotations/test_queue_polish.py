"""Issue 14 points 8 and 10: the queue says when a filter is not applied, keeps its page, answers HEAD; favicon."""

import pytest

from tests.factories import ArticleFactory
from tests.html import parse, select


@pytest.mark.django_db
def test_head_on_the_queue_and_the_favicon(editor_client):
    assert editor_client.head("/").status_code == 200
    response = editor_client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")


def test_an_invalid_filter_in_the_url_says_so(editor_client):
    html = editor_client.get("/?status=nonsense").content.decode()
    alert = select(parse(html), "[role=alert]")
    assert alert and "Not applied: Status" in "".join(alert[0].itertext())
    assert 'class="clear-filters"' in html


def test_article_links_carry_the_page_back_to_the_queue(editor_client):
    for n in range(55):
        ArticleFactory(title=f"Article {n:02}")
    page = parse(editor_client.get("/?page=2&status=new").content)
    links = [a.get("href") for a in select(page, "table.articles a")]
    assert links and all("page=2" in link and "status=new" in link for link in links)
    workspace = editor_client.get(links[0]).content.decode()
    assert 'href="/?status=new&amp;page=2"' in workspace
    assert len(select(page, "nav.pager")) == 2  # above the table too


def test_researchers_see_no_counts_of_their_own(client, researcher):
    ArticleFactory()
    client.force_login(researcher)
    html = client.get("/").content.decode()
    assert "Span counts are yours" not in html and "Your spans" not in html


def test_researchers_read_the_article_with_its_labels(client, researcher, editor, labels):
    from annotations.spans.services import span_create

    article = ArticleFactory(body="Mara Okonkwo said the chip ships in May.")
    span_create(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    client.force_login(researcher)
    page = parse(client.get(f"/articles/{article.pk}/").content)
    assert [mark.get("data-labels") for mark in select(page, ".body .seg.hl")] == ["PERSON"]
    items = ["".join(li.itertext()) for li in select(page, ".read-spans li")]
    assert items == ["PERSON “Mara Okonkwo” 0–12 · ed"]

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.models import Label
from tests.factories import ArticleFactory, SpanFactory
from tests.html import select, text

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name,args", [("annotations:article-list", []), ("annotations:article-detail", [1])])
def test_pages_need_login(client, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_and_csp(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_login_with_password_shows_the_article_list(client, editor):
    ArticleFactory(title="Chip story")
    response = client.post(reverse("login"), {"username": "ed", "password": "pw-for-tests"}, follow=True)
    assert response.status_code == 200
    assert b"Chip story" in response.content


def test_list_shows_status_source_and_span_counts(editor_client, editor, labels):
    article = ArticleFactory(title="Counted")
    SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    SpanFactory(article=article, label=labels["person"], start=5, end=12, annotator=editor)
    SpanFactory(article=article, label=labels["org"], start=16, end=26, annotator=editor)
    response = editor_client.get(reverse("annotations:article-list"))
    rows = dict(response.context["rows"])
    counts = {label.slug: n for label, n in rows[next(a for a in rows if a.pk == article.pk)]}
    assert counts == {"person": 2, "org": 1, "claim": 0, "sponsored": 0}
    assert article.source.name.encode() in response.content


def test_list_rows_show_the_editors_counts_escaped(editor_client, editor, labels):
    article = ArticleFactory(title="Counted <b>&</b> 'quoted'", published_at="2025-03-04T23:30:00Z")
    SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    SpanFactory(article=article, label=labels["org"], start=16, end=26, annotator=editor)
    other = ArticleFactory(title="Not counted", source=None, status="in_annotation")
    SpanFactory(article=other, label=labels["person"], start=0, end=4)  # another editor's
    response = editor_client.get(reverse("annotations:article-list"))
    assert b"<b>&</b>" not in response.content
    rows = {text(row.cssselect("td a")[0]): row for row in select(response.content, "table.articles tbody tr")}
    counted = rows["Counted <b>&</b> 'quoted'"]
    cells = {cell.get("data-label"): text(cell) for cell in counted.cssselect("td[data-label]")}
    names = {label.slug: label.name for label in Label.objects.all()}
    assert {slug: cells[name] for slug, name in names.items()} == {
        "person": "1",
        "org": "1",
        "claim": "0",
        "sponsored": "0",
    }
    assert (cells["Source"], cells["Published"], cells["Your spans"], cells["Suggestions"]) == (
        article.source.name,
        "2025-03-04",
        "2",
        "0",
    )
    assert counted.cssselect("time")[0].get("datetime") == "2025-03-04T23:30:00+00:00"
    assert counted.cssselect("td a")[0].get("href").startswith(f"/articles/{article.pk}/annotate/?at=")
    cells = {cell.get("data-label"): text(cell) for cell in rows["Not counted"].cssselect("td[data-label]")}
    assert (cells["Source"], cells["Published"], cells[names["person"]], cells["Your spans"]) == ("—", "—", "0", "0")
    assert text(rows["Not counted"].cssselect(".status")[0]) == "In annotation"


def list_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("annotations:article-list")).status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_articles(editor_client, editor, labels):
    for _ in range(5):
        SpanFactory(article=ArticleFactory(), label=labels["person"], start=0, end=4, annotator=editor)
    five = list_queries(editor_client)
    for _ in range(45):
        SpanFactory(article=ArticleFactory(), label=labels["org"], start=5, end=12, annotator=editor)
    assert list_queries(editor_client) == five


def test_list_reads_its_option_lists_without_server_side_cursors(editor_client, editor, labels):
    """The Source and "Has my label" lists are read with plain SELECTs: ModelChoiceField's default streams each
    through a server-side cursor (DECLARE, FETCH, CLOSE), three round trips per list on every queue page."""
    article = ArticleFactory(title="Listed")
    with CaptureQueriesContext(connection) as ctx:
        response = editor_client.get(reverse("annotations:article-list"))
    assert not [query["sql"] for query in ctx.captured_queries if "DECLARE" in query["sql"]]
    options = {option.get("value"): text(option) for option in select(response.content, "#id_source option")}
    assert options[str(article.source.pk)] == article.source.name and options[""] == "Any source"
    label_options = [option.get("value") for option in select(response.content, "#id_label option")]
    assert label_options == ["", *(label.slug for label in Label.objects.order_by("ordering", "name"))]


def test_htmx_request_gets_only_the_table(editor_client):
    ArticleFactory(title="Fragment")
    response = editor_client.get(reverse("annotations:article-list"), headers={"HX-Request": "true"})
    assert b"Fragment" in response.content
    assert b"<html" not in response.content
    assert response["Vary"].count("HX-Request") == 1


def test_detail_escapes_text(editor_client):
    article = ArticleFactory(title="<script>alert(1)</script>", body="Body with <b>tags</b> & 👩‍💻")
    response = editor_client.get(reverse("annotations:article-detail", args=[article.pk]))
    assert b"<script>alert(1)</script>" not in response.content
    assert "&lt;b&gt;tags&lt;/b&gt; &amp; 👩‍💻".encode() in response.content


def test_labels_css_serves_colours(editor_client):
    response = editor_client.get(reverse("annotations:labels-css"))
    assert response["Content-Type"].startswith("text/css")
    assert b".label-person { --label-color: #ffd166; }" in response.content

"""annotations.queue.statements and the queue page built on them: SQL built once per shape of the filters runs with
each request's values (user, source, label, search words, page ids), and a value the ORM would write into the SQL
is refused rather than kept."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Assignment, Label
from annotations.queue.selectors import queue_page, queue_rows
from annotations.queue.statements import STAND_INS, statements
from articles.models import Article
from tests.factories import ArticleFactory, SourceFactory, SpanFactory
from tests.html import parse, select, text

pytestmark = pytest.mark.django_db


@statements
def _titles(limit):
    articles = Article.objects.filter(source_id=STAND_INS["source"], title=STAND_INS["tsquery"])
    return articles.order_by("title").values_list("title")[:limit].query.sql_with_params()


def test_a_statement_runs_with_each_calls_values():
    first, second = SourceFactory(), SourceFactory()
    ArticleFactory(title="Alpha one", source=first)
    ArticleFactory(title="Beta one", source=first)
    ArticleFactory(title="Alpha two", source=second)
    assert _titles(5).rows(source=first.pk, tsquery="Alpha one") == [("Alpha one",)]
    assert _titles(5).rows(source=second.pk, tsquery="Alpha two") == [("Alpha two",)]
    assert _titles(5).rows(source=first.pk, tsquery="Beta one") == [("Beta one",)]
    assert _titles(5).rows(source=second.pk, tsquery="Beta one") == []
    assert _titles(5) is _titles(5) and _titles(1) is not _titles(5)


def test_a_stand_in_written_into_the_sql_is_refused():
    @statements
    def inlined():
        return Article.objects.values_list("id")[: STAND_INS["user"]].query.sql_with_params()

    with pytest.raises(ImproperlyConfigured, match="user"):
        inlined()


def test_a_text_stand_in_changed_on_its_way_in_is_refused():
    @statements
    def pattern():
        return Article.objects.filter(title__startswith=STAND_INS["tsquery"]).values_list("id").query.sql_with_params()

    with pytest.raises(ImproperlyConfigured, match="changed"):
        pattern()


def test_the_page_filters_by_each_requests_source_user_label_and_words(editor, other_editor, labels):
    first, second = SourceFactory(), SourceFactory()
    chip = ArticleFactory(title="Chip news", body="The chip ships.", source=first)
    cloud = ArticleFactory(title="Cloud news", body="The cloud grows.", source=second)
    Assignment.objects.create(article=chip, user=editor)
    Assignment.objects.create(article=cloud, user=other_editor)
    SpanFactory(article=cloud, label=labels["org"], start=4, end=9, annotator=editor)
    SpanFactory(article=chip, label=labels["person"], start=4, end=8, annotator=other_editor)
    assert queue_page(user=editor, source=first).ids == [chip.pk]
    assert queue_page(user=editor, source=second).ids == [cloud.pk]
    assert queue_page(user=editor, mine=True).ids == [chip.pk]
    assert queue_page(user=other_editor, mine=True).ids == [cloud.pk]
    assert queue_page(user=editor, label=labels["org"]).ids == [cloud.pk]
    assert queue_page(user=other_editor, label=labels["person"]).ids == [chip.pk]
    assert queue_page(user=editor, label=labels["person"]).ids == []
    assert queue_page(user=editor, q="chip").ids == [chip.pk]
    assert queue_page(user=editor, q="clou").ids == [cloud.pk]
    assert queue_page(user=editor).ids[0] == chip.pk  # assigned first
    assert queue_page(user=other_editor).ids[0] == cloud.pk


def test_a_search_matching_nothing_reads_no_page(editor, labels):
    ArticleFactory(title="Chip news")
    with CaptureQueriesContext(connection) as captured:
        page = queue_page(user=editor, q="zzyzxq")
        assert queue_rows(annotator=editor, ids=page.ids, labels=list(labels.values())) == []
    assert [query["sql"].split()[0] for query in captured.captured_queries] == ["EXPLAIN", "SELECT"]  # estimate, ids
    assert (page.total.value, page.num_pages, page.has_next) == (0, 1, False)


def test_the_page_follows_a_curators_changes_to_labels_and_sources(editor_client, editor, labels):
    article = ArticleFactory(title="Counted")
    SpanFactory(article=article, label=labels["org"], start=0, end=4, annotator=editor)
    assert "ORG" in header_cells(editor_client)
    labels["org"].active = False
    labels["org"].save(update_fields=["active"])
    rust = Label.objects.create(name="Rust <crate>", slug="rust-crate", ordering=99)
    SpanFactory(article=article, label=rust, start=5, end=9, annotator=editor)
    SpanFactory(article=article, label=rust, start=10, end=14, annotator=editor)
    source = SourceFactory(name="Late source")
    page = parse(editor_client.get("/").content)
    headers = [text(cell) for cell in select(page, "table.articles thead th")]
    assert "ORG" not in headers and headers[-3] == "Rust <crate>"
    (row,) = select(page, "table.articles tbody tr")
    assert [text(cell) for cell in row.cssselect("td.num")][-3:] == ["2", "3", "0"]  # Rust, your spans, suggestions
    options = {option.get("value"): text(option) for option in select(page, "#id_source option")}
    assert options[str(source.pk)] == "Late source"
    assert "rust-crate" in [option.get("value") for option in select(page, "#id_label option")]


def header_cells(client) -> list[str]:
    return [text(cell) for cell in select(client.get("/").content, "table.articles thead th")]


def _subplan_loops(plan: dict) -> list[int]:
    found = [plan["Actual Loops"]] if plan.get("Parent Relationship") == "SubPlan" else []
    for child in plan.get("Plans", []):
        found += _subplan_loops(child)
    return found


def test_the_rows_count_each_articles_suggestions_once_not_once_per_span(editor, labels):
    """The suggestion count (a subquery) is grouped by the article it counts for: grouped as a whole, PostgreSQL
    ran it once per span row of the join being grouped (121 runs for the demo's 25 articles, most of the page's
    database time)."""
    from annotations.models import Suggestion
    from annotations.queue.selectors import _rows_statement

    articles = [ArticleFactory(body=f"Corvane hired Mara Okonkwo and Corvane grew {n}. " * 4) for n in range(3)]
    for article in articles:
        for start in (0, 47, 94, 141):
            SpanFactory(article=article, label=labels["org"], start=start, end=start + 7, annotator=editor)
        Suggestion.objects.create(
            article=article, label=labels["person"], start=14, end=18, text="Mara", origin="propagation"
        )
    ids = [article.pk for article in articles]
    rows = queue_rows(annotator=editor, ids=ids, labels=list(labels.values()))
    assert [(row.span_count, row.suggestion_count) for row in rows] == [(4, 1)] * 3
    statement = _rows_statement(tuple(label.pk for label in labels.values()))
    values = statement.values(annotator=editor.pk, ids=ids)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement.sql, values)
        plan = cursor.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    loops = _subplan_loops(plan[0]["Plan"])
    assert loops and max(loops) <= len(articles)

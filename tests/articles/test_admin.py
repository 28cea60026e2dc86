"""The article admin as curators use it: counts, filters, search, the locked body, the preview, the actions."""

import csv
import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.models import Assignment, Span, SpanEvent
from articles.models import Article
from tests.factories import ArticleFactory, SourceFactory, SpanFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:articles_article_changelist")


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


def changelist_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(CHANGELIST, params)
        assert response.status_code == 200
    return len(ctx.captured_queries)


def test_changelist_query_count_is_the_same_for_5_and_50_articles(curator_client, editor, other_editor, labels):
    def add(n):
        for _ in range(n):
            article = ArticleFactory()
            SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
            SpanFactory(article=article, label=labels["org"], start=16, end=26, annotator=other_editor)

    add(5)
    five = changelist_queries(curator_client)
    add(45)
    assert changelist_queries(curator_client) == five
    filtered = changelist_queries(curator_client, has_label="person", annotator=str(editor.pk))
    add(1)
    assert changelist_queries(curator_client, has_label="person", annotator=str(editor.pk)) == filtered


def test_changelist_shows_per_label_counts_and_editor_count(curator_client, editor, other_editor, labels):
    article = ArticleFactory(title="Counted story")
    SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    SpanFactory(article=article, label=labels["person"], start=5, end=12, annotator=editor)
    SpanFactory(article=article, label=labels["org"], start=16, end=26, annotator=other_editor)
    response = curator_client.get(CHANGELIST)
    (row,) = response.context["cl"].result_list
    assert (row.count_person, row.count_org, row.count_claim, row.count_sponsored, row.editor_count) == (2, 1, 0, 0, 2)
    content = response.content.decode()
    for header in ["PERSON", "ORG", "CLAIM", "SPONSORED", "Editors"]:
        assert f">{header}</a>" in content or f">{header}</span>" in content, header


def titles(response) -> set[str]:
    return {article.title for article in response.context["cl"].result_list}


def test_has_label_and_annotator_filters(curator_client, editor, other_editor, labels):
    a = ArticleFactory(title="Has person")
    b = ArticleFactory(title="Has org by other")
    ArticleFactory(title="Untouched")
    SpanFactory(article=a, label=labels["person"], start=0, end=4, annotator=editor)
    SpanFactory(article=b, label=labels["org"], start=16, end=26, annotator=other_editor)
    assert titles(curator_client.get(CHANGELIST, {"has_label": "person"})) == {"Has person"}
    assert titles(curator_client.get(CHANGELIST, {"annotator": str(other_editor.pk)})) == {"Has org by other"}
    response = curator_client.get(CHANGELIST)
    assert "?has_label=sponsored" in response.content.decode()
    assert f"?annotator={editor.pk}" in response.content.decode()


def test_source_status_language_and_imported_filters(curator_client):
    wire = SourceFactory(domain="wire.example", name="Wire")
    ArticleFactory(title="Wire story", source=wire, language="de", status=Article.Status.READY_FOR_REVIEW)
    ArticleFactory(title="Other story")
    assert titles(curator_client.get(CHANGELIST, {"source__id__exact": wire.pk})) == {"Wire story"}
    assert titles(curator_client.get(CHANGELIST, {"status__exact": "ready_for_review"})) == {"Wire story"}
    assert titles(curator_client.get(CHANGELIST, {"language__exact": "de"})) == {"Wire story"}
    old = ArticleFactory(title="Imported long ago")
    Article.objects.filter(pk=old.pk).update(imported_at="2020-01-01T00:00:00Z")
    recent = {"imported_at__gte": "2021-01-01 00:00:00+00:00"}
    assert titles(curator_client.get(CHANGELIST, recent)) == {"Wire story", "Other story"}


def test_search_matches_title_url_and_body_full_text(curator_client):
    ArticleFactory(title="Chip news", url="https://a.example/chips", body="Nothing about memory here.")
    ArticleFactory(title="Other", url="https://b.example/x", body="Regulators are investigating the accelerators.")
    assert titles(curator_client.get(CHANGELIST, {"q": "chip"})) == {"Chip news"}
    assert titles(curator_client.get(CHANGELIST, {"q": "b.example"})) == {"Other"}
    # Full-text: "investigate" matches "investigating" through English stemming, which icontains would not.
    assert titles(curator_client.get(CHANGELIST, {"q": "investigate accelerator"})) == {"Other"}


def test_body_is_read_only_once_spans_exist_and_says_why(curator_client, editor, labels):
    article = ArticleFactory(body="Mara Okonkwo spoke.")
    url = reverse("admin:articles_article_change", args=[article.pk])
    assert "body" in curator_client.get(url).context["adminform"].form.fields
    SpanFactory(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    response = curator_client.get(url)
    assert "body" not in response.context["adminform"].form.fields
    assert "The text cannot change: 1 span point into it by character offset" in response.content.decode()
    data = {
        "title": article.title, "url": article.url, "byline": "", "language": "en", "status": "new",
        "body": "Changed text.", "metadata": "{}", "spans-TOTAL_FORMS": "1", "spans-INITIAL_FORMS": "1",
        "spans-MIN_NUM_FORMS": "0", "spans-MAX_NUM_FORMS": "0", "_save": "Save",
    }  # fmt: skip
    curator_client.post(url, data)
    article.refresh_from_db()
    assert article.body == "Mara Okonkwo spoke."


def test_body_can_be_edited_while_no_span_points_into_it(curator_client):
    article = ArticleFactory(body="Old text.")
    url = reverse("admin:articles_article_change", args=[article.pk])
    data = {
        "title": "New title", "url": article.url, "byline": "", "language": "en", "status": "new",
        "body": "New\r\ntext.", "metadata": "{}", "spans-TOTAL_FORMS": "0", "spans-INITIAL_FORMS": "0",
        "spans-MIN_NUM_FORMS": "0", "spans-MAX_NUM_FORMS": "0", "_save": "Save",
    }  # fmt: skip
    response = curator_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    article.refresh_from_db()
    assert (article.title, article.body) == ("New title", "New\ntext.")


def test_add_article_refuses_a_duplicate_text(curator_client):
    existing = ArticleFactory(title="First", body="Same words.")
    data = {
        "title": "Second", "url": "", "byline": "", "language": "en", "status": "new", "body": "Same words.",
        "metadata": "{}", "spans-TOTAL_FORMS": "0", "spans-INITIAL_FORMS": "0", "spans-MIN_NUM_FORMS": "0",
        "spans-MAX_NUM_FORMS": "0", "_save": "Save",
    }  # fmt: skip
    response = curator_client.post(reverse("admin:articles_article_add"), data)
    assert f"The same text is already in the corpus: “First” (#{existing.pk})." in response.content.decode()
    data["body"] = "Different words."
    assert curator_client.post(reverse("admin:articles_article_add"), data).status_code == 302
    assert Article.objects.get(title="Second").body_sha256


def test_change_page_highlights_every_editors_spans(curator_client, editor, other_editor, labels):
    article = ArticleFactory(body="Mara Okonkwo of Larchfield Systems said so.")
    SpanFactory(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    SpanFactory(article=article, label=labels["org"], start=16, end=34, annotator=other_editor)
    response = curator_client.get(reverse("admin:articles_article_change", args=[article.pk]))
    content = response.content.decode()
    assert 'class="seg hl n1 l1-person open close"' in content
    assert ">Mara Okonkwo</span>" in content and ">Larchfield Systems</span>" in content
    assert "2 span(s) by ed, ed2" in content
    assert reverse("annotations:labels-css") in content
    # The read-only inline lists each span with its annotator.
    inline = response.context["inline_admin_formsets"][0]
    assert [(f.original.text, f.original.annotator.username) for f in inline] == [
        ("Mara Okonkwo", "ed"),
        ("Larchfield Systems", "ed2"),
    ]
    assert not inline.has_add_permission and not inline.has_delete_permission


def act(client, action, articles, **data):
    payload = {"action": action, ACTION_CHECKBOX_NAME: [a.pk for a in articles], **data}
    return client.post(CHANGELIST, payload)


def test_mark_reviewed_asks_first_then_marks(curator_client, editor, labels):
    a, b = ArticleFactory(), ArticleFactory()
    page = act(curator_client, "mark_reviewed", [a, b])
    assert page.status_code == 200
    assert "get the status “Reviewed”" in page.content.decode()
    a.refresh_from_db()
    assert a.status == Article.Status.NEW
    act(curator_client, "mark_reviewed", [a, b], post="yes")
    assert set(Article.objects.values_list("status", flat=True)) == {Article.Status.REVIEWED}


def test_reopen_goes_back_to_in_progress_or_new(curator_client, editor, labels):
    spanned = ArticleFactory(status=Article.Status.REVIEWED)
    SpanFactory(article=spanned, label=labels["person"], start=0, end=4, annotator=editor)
    bare = ArticleFactory(status=Article.Status.REVIEWED)
    assert "go back to work" in act(curator_client, "reopen", [spanned, bare]).content.decode()
    act(curator_client, "reopen", [spanned, bare], post="yes")
    spanned.refresh_from_db()
    bare.refresh_from_db()
    assert (spanned.status, bare.status) == (Article.Status.IN_ANNOTATION, Article.Status.NEW)


def test_assign_to_editors(curator_client, curator, editor, other_editor, researcher):
    a, b = ArticleFactory(), ArticleFactory()
    page = act(curator_client, "assign", [a, b])
    choices = {str(choice[1]) for choice in page.context["form"].fields["users"].choices}
    assert {"ed", "ed2"} <= choices and "res" not in choices
    act(curator_client, "assign", [a, b], post="yes", users=[editor.pk, other_editor.pk])
    assert Assignment.objects.filter(assigned_by=curator).count() == 4
    # Assigning again keeps one assignment per article and editor.
    act(curator_client, "assign", [a], post="yes", users=[editor.pk])
    assert Assignment.objects.count() == 4
    refused = act(curator_client, "assign", [a], post="yes", users=[researcher.pk])
    assert refused.status_code == 200 and refused.context["form"].errors["users"]


def test_export_spans_csv_of_selected_articles(curator_client, editor, labels):
    a = ArticleFactory(title="Exported", body="Mara Okonkwo said =SUM(A1).")
    other = ArticleFactory(title="Not selected")
    SpanFactory(article=a, label=labels["person"], start=0, end=12, annotator=editor)
    SpanFactory(article=a, label=labels["claim"], start=18, end=26, annotator=editor)
    SpanFactory(article=other, label=labels["person"], start=0, end=4, annotator=editor)
    assert "the 2 span(s) of the selected articles" in act(curator_client, "export_spans_csv", [a]).content.decode()
    response = act(curator_client, "export_spans_csv", [a], post="yes")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="newsnotes-spans-')
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["title"], r["label"], r["text"], r["annotator"]) for r in rows] == [
        ("Exported", "PERSON", "Mara Okonkwo", "ed"),
        ("Exported", "CLAIM", "'=SUM(A1)", "ed"),
    ]


def test_delete_summarises_spans_then_deletes_through_the_service(curator_client, editor, other_editor, labels):
    a = ArticleFactory(title="Doomed")
    SpanFactory(article=a, label=labels["person"], start=0, end=4, annotator=editor)
    SpanFactory(article=a, label=labels["org"], start=16, end=26, annotator=other_editor)
    Assignment.objects.create(article=a, user=editor)
    page = act(curator_client, "delete_with_spans", [a])
    assert "With them go 2 span(s) by 2 editor(s) and 1 assignment(s)." in page.content.decode()
    assert Article.objects.filter(pk=a.pk).exists()
    act(curator_client, "delete_with_spans", [a], post="yes")
    assert not Article.objects.filter(pk=a.pk).exists()
    assert not Span.objects.exists()
    assert SpanEvent.objects.filter(pgh_label="delete").count() == 2
    # Django's own "delete selected" (which would list every span) is not offered.
    actions = [value for value, _ in curator_client.get(CHANGELIST).context["action_form"].fields["action"].choices]
    assert "delete_selected" not in actions and "delete_with_spans" in actions


def test_delete_page_of_one_article_shows_counts_not_rows(curator_client, editor, labels):
    a = ArticleFactory()
    for start in range(0, 40, 4):
        SpanFactory(article=a, label=labels["person"], start=start, end=start + 3, annotator=editor)
    response = curator_client.get(reverse("admin:articles_article_delete", args=[a.pk]))
    content = response.content.decode()
    assert "With them go 10 span(s) by 1 editor(s)" in content
    curator_client.post(reverse("admin:articles_article_delete", args=[a.pk]), {"post": "yes"})
    assert not Article.objects.exists() and SpanEvent.objects.filter(pgh_label="delete").count() == 10


@pytest.mark.parametrize(
    "action,missing", [("mark_reviewed", "review_article"), ("assign", "add_assignment"),
                       ("export_spans_csv", "export_spans"), ("delete_with_spans", "delete_article")],
)  # fmt: skip
def test_actions_are_refused_without_their_permission(client, curator, action, missing):
    from django.contrib.auth.models import Group

    # A curator-like staff user whose group lacks exactly one permission.
    limited = Group.objects.create(name=f"limited-{action}")
    limited.permissions.set(Group.objects.get(name="Curators").permissions.exclude(codename=missing))
    curator.groups.set([limited])
    client.force_login(curator)
    article = ArticleFactory(status=Article.Status.NEW)
    offered = [value for value, _ in client.get(CHANGELIST).context["action_form"].fields["action"].choices]
    assert action not in offered
    response = act(client, action, [article], post="yes", users=[curator.pk])
    assert response.status_code == 302
    assert "No action selected." in [str(m) for m in client.get(response["Location"]).context["messages"]]
    article.refresh_from_db()
    assert article.status == Article.Status.NEW and not Assignment.objects.exists()


def test_sources_show_article_and_span_counts(curator_client, editor, labels):
    wire = SourceFactory(domain="wire.example", name="Wire")
    a, b = ArticleFactory(source=wire), ArticleFactory(source=wire)
    ArticleFactory(source=SourceFactory(domain="other.example", name="Other"))
    SpanFactory(article=a, label=labels["person"], start=0, end=4, annotator=editor)
    SpanFactory(article=a, label=labels["org"], start=16, end=26, annotator=editor)
    SpanFactory(article=b, label=labels["org"], start=16, end=26, annotator=editor)
    response = curator_client.get(reverse("admin:articles_source_changelist"))
    counts = {s.name: (s.article_count, s.span_count) for s in response.context["cl"].result_list}
    assert counts == {"Wire": (2, 3), "Other": (1, 0)}


def test_search_pager_counts_up_to_the_cap_not_every_match(curator_client, monkeypatch):
    """Issue 13: a common word's matches are counted only up to the cap ("3+ articles"), never in full, and the
    search form no longer counts the whole table beside them."""
    from articles.admin import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "cap", 3)
    for n in range(5):
        ArticleFactory(title=f"Zorvex story {n}")
    ArticleFactory(title="Quillon story")
    with CaptureQueriesContext(connection) as captured:
        response = curator_client.get(CHANGELIST, {"q": "zorv"})
    counts = [query["sql"] for query in captured.captured_queries if "COUNT(*)" in query["sql"].upper()]
    # One count, of the matches alone (no span join), stopping at the cap + 1; the whole table is not counted.
    assert len(counts) == 1 and "LIMIT 4" in counts[0] and "annotations_span" not in counts[0], counts
    html = response.content.decode()
    assert "3+ articles" in html and "3+ results" in html and "total" not in html.split('id="changelist-search"')[1]
    assert len(response.context["cl"].result_list) == 5  # the page itself is complete
    exact = curator_client.get(CHANGELIST, {"q": "quillon"}).content.decode()
    assert "1 article\n" in exact and "1 result " in exact


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        # A few rows here: show the plan PostgreSQL uses at scale, where sorting or reading a whole table costs more.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_changelist_reads_the_page_not_the_corpus(curator_client, editor, other_editor, labels):
    """A page of the list costs what its 50 rows cost: span counts are per-row subqueries, never a join and GROUP
    BY over every article; the rows come in the list's order from an index; the language filter's choices skip
    through an index instead of a DISTINCT over the table (1 s a page at 100,000 articles before)."""
    for language in ["de", "en", "en", "fr-CA", "en"]:
        article = ArticleFactory(language=language)
        SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
        SpanFactory(article=article, label=labels["person"], start=5, end=9, annotator=other_editor)
    with CaptureQueriesContext(connection) as captured:
        response = curator_client.get(CHANGELIST)
    statements = [query["sql"] for query in captured.captured_queries]
    listed = [sql for sql in statements if "count_person" in sql.lower()]
    assert len(listed) == 1 and "GROUP BY" not in listed[0].split("(SELECT")[0], listed
    derived = [sql for sql in statements if 'FROM "articles_article"' in sql and sql not in listed]
    assert derived and not [sql for sql in derived if "annotations_span" in sql]  # count, dates: articles alone
    assert not [sql for sql in statements if 'DISTINCT "articles_article"."language"' in sql]
    assert '"articles_article"."body"' not in listed[0]  # up to 1 MB an article: never read for a list
    rows = response.context["cl"].result_list
    assert {(row.count_person, row.editor_count) for row in rows} == {(2, 2)}
    (language_filter,) = [f for f in response.context["cl"].filter_specs if f.title == "language"]
    assert language_filter.lookup_choices == ["de", "en", "fr-CA"]
    html = response.content.decode()
    assert '<a href="?language=fr-CA">fr-CA</a>' in html
    assert len(titles(curator_client.get(CHANGELIST, {"language__exact": "en"}))) == 3

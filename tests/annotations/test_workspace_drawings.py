"""The annotate page's stored drawings (annotations/workspace/drawings.py): served only for the very rows they were
drawn from, whatever path changed the spans, suggestions, decisions, labels or the article since (the revision
triggers of migration 0027), and only to the editor who drew them."""

import lxml.html
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from annotations.models import Label, Span, WorkspaceDrawing
from annotations.suggestions.models import Suggestion, SuggestionDecision
from articles.models import Article, body_sha256
from tests.factories import ArticleFactory, SpanFactory
from tests.html import one, parse, select
from tests.workspace import HX, create, url

pytestmark = pytest.mark.django_db

BODY = (
    "Mara Okonkwo of Larchfield Systems said the chip ships in May.\n\n"
    "Team 👩🏽‍💻 met Rene\u0301e in 東京 & then <left>.\n\n"
    "Quillix OS is the privacy-first Linux distribution. Quillix said so."
)
TAMPERED = b'<span class="seg" data-start="0">tampered</span>'


@pytest.fixture
def article():
    return ArticleFactory(title="Chip news", body=BODY)


def drawn(client, article) -> tuple[str, list[str], str, int]:
    """What the page shows of the drawing: the body's markup, the list of spans, the version (the key it was drawn
    at), the span count."""
    page = parse(client.get(reverse("annotations:article-annotate", args=[article.pk])).content)
    markup = lxml.html.tostring(one(page, "#ws-body"), encoding=str)
    lists = [lxml.html.tostring(group, encoding=str) for group in select(page, ".span-group:not(.sug-group)")]
    count = int(one(page, "#ws-panel-title .count").text)
    return markup, lists, one(page, "#ws-body-patch").get("data-version"), count


def fresh(client, article):
    """The page drawn from scratch, with no stored drawing to read."""
    WorkspaceDrawing.objects.all().delete()
    return drawn(client, article)


def test_a_stored_drawing_is_read_back_and_never_outlives_a_change_by_any_path(editor_client, editor, article, labels):
    SpanFactory(article=article, label=labels["org"], start=16, end=34, annotator=editor)
    first = drawn(editor_client, article)
    assert WorkspaceDrawing.objects.filter(article=article, editor=editor).count() == 1
    assert drawn(editor_client, article) == first == fresh(editor_client, article)
    # The page reads the stored drawing: tampered with, it shows (so its key is what keeps it honest).
    drawn(editor_client, article)
    WorkspaceDrawing.objects.update(body=TAMPERED)
    assert "tampered" in drawn(editor_client, article)[0]

    def each_change():
        """Each change by any path, and whether the page shows it (a change it does not show must still not be
        met by a stale drawing: the tampered one would then be served)."""
        yield lambda: create(editor_client, article, labels["person"], "Mara Okonkwo"), True  # the workspace
        yield lambda: editor_client.post(reverse("annotations:article-undo", args=[article.pk]), headers=HX), True
        yield lambda: create(editor_client, article, labels["org"], "Quillix"), True  # suggests its other place
        quillix = Span.objects.get(text="Quillix")
        suggested = Suggestion.objects.get(article=article)
        rejected = {"suggestion": suggested.pk}
        yield lambda: editor_client.post(url("suggestion-reject", article), rejected, headers=HX), True  # a decision
        yield lambda: SuggestionDecision.objects.filter(article=article).update(decided_at=timezone.now()), False
        yield lambda: editor_client.post(reverse("annotations:article-undo", args=[article.pk]), headers=HX), True
        yield lambda: Span.objects.filter(pk=quillix.pk).update(label=labels["person"]), True  # the admin, a review
        yield lambda: Span.objects.filter(pk=quillix.pk).update(note="checked"), True  # shows in the list only
        yield lambda: _raw("UPDATE annotations_span SET note = 'raw' WHERE id = %s", [quillix.pk]), True
        yield lambda: Label.objects.filter(pk=labels["person"].pk).update(name="Human"), True  # a curator
        yield lambda: Label.objects.filter(pk=labels["org"].pk).update(ordering=0), True  # ORG's group first
        # A label no span has: the palette shows it (drawn with the page, never stored), the drawing does not.
        yield lambda: Label.objects.create(name="Place", slug="place", hotkey="9"), False
        yield lambda: Label.objects.filter(slug="place").delete(), False
        yield lambda: Article.objects.filter(pk=article.pk).update(status=Article.Status.REVIEWED), False
        yield lambda: Article.objects.filter(pk=article.pk).update(status=Article.Status.IN_ANNOTATION), False
        yield lambda: Suggestion.objects.filter(article=article).delete(), True  # a rebuild
        yield lambda: Span.objects.filter(pk=quillix.pk).delete(), True
        yield lambda: Span.objects.filter(article=article).delete(), True
        crew = BODY.replace("Team", "Crew")
        yield lambda: Article.objects.filter(pk=article.pk).update(body=crew, body_sha256=body_sha256(crew)), True

    for change, shown in each_change():
        before = drawn(editor_client, article)
        WorkspaceDrawing.objects.update(body=TAMPERED, spans=b"<p>tampered</p>")
        change()
        after = drawn(editor_client, article)
        shows = [*after[:2], after[3]] != [*before[:2], before[3]]
        assert shows == shown
        assert after[2] != before[2]  # whatever it shows, the drawing has a new version (its key)
        assert "tampered" not in after[0] and all("tampered" not in group for group in after[1])
        assert after == fresh(editor_client, article)


def _raw(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_page_with_a_current_drawing_reads_no_span_or_suggestion(editor_client, editor, article, labels):
    SpanFactory(article=article, label=labels["org"], start=16, end=34, annotator=editor)
    create(editor_client, article, labels["org"], "Quillix")
    first = drawn(editor_client, article)
    with CaptureQueriesContext(connection) as queries:
        assert drawn(editor_client, article) == first
    read = " ".join(query["sql"] for query in queries)
    assert "annotations_span" not in read and "annotations_suggestion" not in read
    assert first[0].count("sug") and WorkspaceDrawing.objects.get().suggestion_count == 1


def test_the_suggestion_panel_of_a_stored_drawing_carries_this_requests_csrf_token(editor_client, article, labels):
    create(editor_client, article, labels["org"], "Quillix")
    for _ in range(2):  # drawn, then read back
        page = parse(editor_client.get(reverse("annotations:article-annotate", args=[article.pk])).content)
        tokens = {field.get("value") for field in select(page, "#ws-panel input[name=csrfmiddlewaretoken]")}
        assert len(tokens) == 1 and "\x00" not in tokens.pop()
    assert b"\x00csrf\x00" in bytes(WorkspaceDrawing.objects.get().suggestions)


def test_an_editor_never_gets_another_editors_drawing(client, editor, other_editor, article, labels):
    SpanFactory(article=article, label=labels["org"], start=16, end=34, annotator=editor)
    client.force_login(editor)
    mine = drawn(client, article)
    assert mine[3] == 1
    client.force_login(other_editor)
    theirs = drawn(client, article)
    # Blind labelling: the other editor's page draws none of the first editor's spans, stored or not.
    assert theirs[3] == 0 and theirs[0] != mine[0] and theirs == fresh(client, article)
    assert not select(parse(theirs[0]), "[data-spans]")
    assert set(WorkspaceDrawing.objects.values_list("editor", flat=True)) == {other_editor.pk}
    client.force_login(editor)
    assert drawn(client, article) == mine
    WorkspaceDrawing.objects.filter(editor=editor).update(body=TAMPERED)
    client.force_login(other_editor)
    assert "tampered" not in drawn(client, article)[0]


def test_the_drawing_is_stored_once_per_editor_and_article(editor_client, editor, article, labels):
    for text in ("Mara Okonkwo", "Quillix OS", "chip"):
        create(editor_client, article, labels["org"], text)
        drawn(editor_client, article)
    (row,) = WorkspaceDrawing.objects.filter(article=article, editor=editor)
    assert len(select(parse(bytes(row.body)), "[data-opens]")) == 3  # the last drawing: all three spans

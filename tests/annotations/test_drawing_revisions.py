"""The drawing revisions of migration 0032: whose drawings each change makes stale, and what a write's answer
reads as the key just before it."""

import pghistory
import pytest
from django.db import connection
from django.utils import timezone

from annotations.suggestions import decisions
from annotations.suggestions.models import DecisionKind, Suggestion, SuggestionDecision, SuggestionOrigin
from annotations.workspace import drawings
from articles.models import Article
from tests.factories import ArticleFactory, SpanFactory

pytestmark = pytest.mark.django_db


def revisions(article) -> dict[int, int]:
    """The article's revisions by editor (0: every editor's part)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT editor_id, revision FROM annotations_drawingrevision WHERE article_id = %s", [article.pk]
        )
        return dict(cursor.fetchall())


def bumped(article, change) -> set[int]:
    """Whose parts of the article's drawings ``change`` gave a new revision."""
    before = revisions(article)
    change()
    after = revisions(article)
    return {editor for editor, revision in after.items() if before.get(editor) != revision}


def suggestion(article, label, derived_from=None, start=0, end=4):
    return Suggestion.objects.create(
        article=article,
        label=label,
        start=start,
        end=end,
        text=article.body[start:end],
        derived_from=derived_from,
        origin=SuggestionOrigin.PROPAGATION if derived_from else SuggestionOrigin.PLUGIN,
    )


def test_each_change_makes_stale_the_drawings_that_show_it(editor, other_editor, labels):
    article = ArticleFactory(title="Revisions", body="Mara Okonkwo of Larchfield Systems said so.")
    person = labels["person"]
    # An editor's spans and decisions: their drawing alone (blind labelling).
    assert bumped(article, lambda: SpanFactory(article=article, label=person, start=0, end=4, annotator=editor)) == {
        editor.pk
    }
    assert bumped(
        article, lambda: SpanFactory(article=article, label=person, start=5, end=12, annotator=other_editor)
    ) == {other_editor.pk}
    decided = {"article": article, "label": person, "start": 5, "end": 12, "decided_at": timezone.now()}
    assert bumped(
        article, lambda: SuggestionDecision.objects.create(editor=editor, decision=DecisionKind.REJECTED, **decided)
    ) == {editor.pk}
    # A suggestion propagated from an editor's span: theirs until the article is reviewed; nobody's: everyone's.
    assert bumped(article, lambda: suggestion(article, person, derived_from=editor)) == {editor.pk}
    assert bumped(article, lambda: suggestion(article, labels["org"], start=16, end=26)) == {0}
    assert bumped(article, lambda: Article.objects.filter(pk=article.pk).update(status=Article.Status.REVIEWED)) == {0}
    assert bumped(article, lambda: suggestion(article, person, derived_from=other_editor, start=5, end=12)) == {0}
    # A change to labels: every drawing of every article.
    with connection.cursor() as cursor:
        cursor.execute("SELECT revision FROM annotations_drawingrevision WHERE article_id = 0 AND editor_id = 0")
        (labels_before,) = cursor.fetchone() or (0,)
    person.name = "Human"
    person.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT revision FROM annotations_drawingrevision WHERE article_id = 0 AND editor_id = 0")
        assert cursor.fetchone()[0] != labels_before


def test_a_write_reads_the_key_just_before_it_however_many_statements_it_bumped(editor, labels):
    """Two writes in one database transaction (as a test's requests are) are told apart by their history
    context: each one's ``before`` is the key just before it, not before the transaction."""
    article = ArticleFactory(title="Before", body="Mara Okonkwo of Larchfield Systems said so.")

    def key():
        return drawings.page_reads(article_id=article.pk, editor_id=editor.pk, stored=False)

    start = key().key
    with pghistory.context(write="first"):
        SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
        SpanFactory(article=article, label=labels["org"], start=16, end=26, annotator=editor)
        Article.objects.filter(pk=article.pk).update(status=Article.Status.IN_ANNOTATION)
        first = key()
        assert first.before == start and first.key != start
    with pghistory.context(write="second"):
        SpanFactory(article=article, label=labels["person"], start=5, end=12, annotator=editor)
        second = key()
        assert second.before == first.key and second.key != first.key
        # The article's part was not bumped by this write: its revision as it is.
        assert second.before.split(".")[0] == second.key.split(".")[0]


def test_the_workspace_leaves_out_labelled_places_as_the_statement_for_one_editor_does(editor, other_editor, labels):
    """The workspace reads suggestions without joining them to the editor's spans and leaves out the places they
    labelled the same way itself (``suggestion_rows_of``): the rows it draws are ``suggestion_rows``' own."""
    body = "Quillix met Larchfield; Quillix and Larchfield agreed, and Quillix said so to Larchfield."
    article = ArticleFactory(title="Shown", body=body)
    org, person = labels["org"], labels["person"]
    places = [(at, at + 7) for at in (0, 24, 59)] + [(at, at + 10) for at in (12, 36, 78)]
    for start, end in places:
        for label in (org, person):
            suggestion(article, label, start=start, end=end)  # nobody's: every editor may see them
            suggestion(article, label, derived_from=other_editor, start=start, end=end)  # theirs alone
    suggestion(article, org, derived_from=editor, start=0, end=7)  # a second one at a place: one is drawn
    SpanFactory(article=article, label=org, start=0, end=7, annotator=editor)  # labelled the same way
    SpanFactory(article=article, label=person, start=12, end=22, annotator=editor)
    SpanFactory(article=article, label=org, start=24, end=31, annotator=other_editor)  # someone else's
    now = timezone.now()
    SuggestionDecision.objects.create(
        editor=editor, decision=DecisionKind.REJECTED, article=article, label=org, start=36, end=46, decided_at=now
    )

    def both():
        expected = decisions.suggestion_rows(article=article, editor=editor)
        _, drawn = drawings.drawn_rows(article_id=article.pk, editor_id=editor.pk)
        return expected, drawn

    expected, drawn = both()
    assert drawn == expected and len(expected) == 9  # 12 places and labels, less two labelled, one rejected
    Article.objects.filter(pk=article.pk).update(status=Article.Status.REVIEWED)  # the others' now shown too
    expected, drawn = both()
    assert drawn == expected and len(expected) == 9  # the same places: one row each

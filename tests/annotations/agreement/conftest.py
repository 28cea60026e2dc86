"""A small desk: editors who finished articles together, for the agreement tests that need the database."""

import pytest
from django.utils import timezone

from annotations.models import Assignment
from articles.models import Article
from tests.factories import ArticleFactory, SourceFactory, SpanFactory, make_editor

BODY = "Mara Okonkwo of Larchfield Systems said the chip ships in May."
#       0    5       13 16         27      35   40  44   49    55 58


def span(article, who, label, start, end):
    return SpanFactory(article=article, annotator=who, label=label, start=start, end=end)


def finish(article, *editors):
    """The editors' slots on ``article``, marked done: their layers count."""
    now = timezone.now()
    for editor in editors:
        Assignment.objects.update_or_create(
            article=article, user=editor, defaults={"leased_until": now, "started_at": now, "done_at": now}
        )


@pytest.fixture
def desk(labels, reviewer):
    """Two done articles labelled by two editors, one by a third; a reviewer's spans and an unfinished article."""
    ana, bo, cy = make_editor("ana"), make_editor("bo"), make_editor("cy")
    source = SourceFactory(domain="wire.example")
    first = ArticleFactory(body=BODY, source=source, status=Article.Status.READY_FOR_REVIEW)
    second = ArticleFactory(body=BODY + " (2)", status=Article.Status.REVIEWED)
    open_one = ArticleFactory(body=BODY + " (3)", status=Article.Status.IN_ANNOTATION)
    person, org = labels["person"], labels["org"]
    span(first, ana, person, 0, 12)
    span(first, ana, org, 16, 34)
    span(first, bo, person, 0, 12)
    span(first, bo, org, 16, 26)
    span(first, reviewer, person, 40, 48)  # a reviewer is not an editor
    span(second, ana, person, 0, 4)
    span(second, bo, org, 0, 4)
    span(second, cy, person, 0, 4)
    span(open_one, ana, person, 0, 12)  # not finished: left out
    span(open_one, cy, person, 0, 12)
    finish(first, ana, bo)
    finish(second, ana, bo, cy)
    return {"ana": ana, "bo": bo, "cy": cy, "first": first, "second": second, "source": source}

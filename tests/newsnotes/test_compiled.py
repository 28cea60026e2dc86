"""newsnotes.compiled: a query compiled once runs with each call's ids, wherever the ORM put them."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from annotations.models import Span
from newsnotes.compiled import compiled
from tests.factories import ArticleFactory, SpanFactory

pytestmark = pytest.mark.django_db


@compiled("article", "start")
def _at(*, article, start):
    # ``start`` is a PositiveIntegerField: psycopg wraps its parameter (Int4), which must still be recognised.
    return Span.objects.filter(article_id=article, start=start).values_list("id")


def test_each_call_gets_its_own_ids(editor, labels):
    article = ArticleFactory(body="Mara Okonkwo met Quillix.")
    mara = SpanFactory(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    quillix = SpanFactory(article=article, label=labels["org"], start=17, end=24, annotator=editor)
    assert _at().rows(article=article.pk, start=0) == [(mara.pk,)]
    assert _at().rows(article=article.pk, start=17) == [(quillix.pk,)]
    assert _at().rows(article=article.pk + 1, start=0) == []


def test_an_id_the_query_does_not_take_is_refused():
    @compiled("article", "editor")
    def unused(*, article, editor):
        return Span.objects.filter(article_id=article).values_list("id")

    with pytest.raises(ImproperlyConfigured, match="editor"):
        unused()

"""Driving the annotate page in tests as its JavaScript does: htmx posts to the workspace URLs."""

from __future__ import annotations

from django.urls import reverse

from annotations.models import Span

HX = {"HX-Request": "true"}


def url(name: str, article, *args) -> str:
    return reverse(f"annotations:{name}", args=[article.pk, *args])


def create(client, article, label, selected: str) -> Span:
    """Label the first occurrence of ``selected``; the request must succeed."""
    start = article.body.index(selected)
    data = {"label": label.pk, "start": start, "end": start + len(selected), "text": selected}
    response = client.post(url("span-create", article), data, headers=HX)
    assert response.status_code == 200, response.content
    return Span.objects.get(article=article, label=label, start=start, end=start + len(selected))

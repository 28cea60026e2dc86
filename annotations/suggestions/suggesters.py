"""Pre-annotation plug-ins: ``settings.NEWSNOTES_SUGGESTERS`` lists dotted paths of callables.

A suggester takes an article's text and returns ``(start, end, label_name)`` triples: code points (Python
``str`` indices), end exclusive. Whatever it returns is checked before anything is stored: integers inside the
text, a non-blank stretch, a known active label (by name, ignoring case); anything else is skipped and counted,
so one bad plug-in cannot store a wrong offset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

from annotations.models import Label
from annotations.suggestions.models import Suggestion, SuggestionOrigin
from articles.models import Article

Suggester = Callable[[str], Iterable[tuple[int, int, str]]]


def configured_suggesters() -> list[Suggester]:
    return [import_string(path) for path in getattr(settings, "NEWSNOTES_SUGGESTERS", [])]


@dataclass(frozen=True)
class SuggestersRun:
    created: int
    skipped: int  # triples refused: bad offsets, blank text, unknown or inactive label


def checked_spans(body: str, found: Iterable[tuple[int, int, str]], labels: dict[str, int]) -> tuple[list, int]:
    """The triples that fit ``body``, as ``(start, end, label_id)``, and how many did not."""
    good: list[tuple[int, int, int]] = []
    skipped = 0
    for item in found:
        try:
            start, end, name = item
        except (TypeError, ValueError):
            skipped += 1
            continue
        label_id = labels.get(str(name).casefold())
        if (
            type(start) is not int
            or type(end) is not int
            or not 0 <= start < end <= len(body)
            or label_id is None
            or not body[start:end].strip()
        ):
            skipped += 1
            continue
        good.append((start, end, label_id))
    return good, skipped


def suggesters_run(*, article_ids: Sequence[int], suggesters: Sequence[Suggester] | None = None) -> SuggestersRun:
    """Run the plug-ins over some articles and store what they find as pending suggestions (origin ``plugin``)."""
    suggesters = configured_suggesters() if suggesters is None else list(suggesters)
    if not suggesters or not article_ids:
        return SuggestersRun(created=0, skipped=0)
    labels = {name.casefold(): pk for name, pk in Label.objects.filter(active=True).values_list("name", "pk")}
    created = skipped = 0
    for article_id, body in Article.objects.filter(pk__in=list(article_ids)).values_list("pk", "body").iterator():
        found: list[tuple[int, int, int]] = []
        for suggester in suggesters:
            good, bad = checked_spans(body, suggester(body), labels)
            found += good
            skipped += bad
        existing = set(
            Suggestion.objects.filter(article_id=article_id, derived_from=None).values_list("start", "end", "label_id")
        )
        new = [
            Suggestion(
                article_id=article_id,
                label_id=label_id,
                start=start,
                end=end,
                text=body[start:end],
                origin=SuggestionOrigin.PLUGIN,
            )
            for start, end, label_id in dict.fromkeys(found)
            if (start, end, label_id) not in existing
        ]
        with transaction.atomic():
            Suggestion.objects.bulk_create(new, ignore_conflicts=True)
        created += len(new)
    return SuggestersRun(created=created, skipped=skipped)

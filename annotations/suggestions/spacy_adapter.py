"""The built-in spaCy suggester (``pip install newsnotes[spacy]``).

``suggest`` runs the pipeline named by ``settings.NEWSNOTES_SPACY_PIPELINE``: an installed package or a path
for ``spacy.load``, or ``"gazetteer"`` (the default): a blank pipeline of the article's language with an
``EntityRuler`` built from the editors' own entity spans, which downloads nothing. spaCy's character offsets
are Python ``str`` indices, i.e. the code points NewsNotes stores; ``suggesters_run`` re-checks them anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from django.conf import settings


def gazetteer_pipeline(terms: Mapping[str, str], *, language: str = "en") -> Any:
    """A blank spaCy pipeline whose ``EntityRuler`` finds each term (exact phrase) with its label's name."""
    import spacy

    nlp = spacy.blank(language)
    ruler: Any = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "ORTH"})
    ruler.add_patterns([{"label": label, "pattern": term} for term, label in terms.items()])
    return nlp


class SpacySuggester:
    """Text in, ``(start, end, label_name)`` out, from a spaCy pipeline's entities."""

    def __init__(self, nlp: Any) -> None:
        self.nlp = nlp

    def __call__(self, text: str) -> list[tuple[int, int, str]]:
        return [(ent.start_char, ent.end_char, ent.label_) for ent in self.nlp(text).ents]


@cache
def _configured() -> SpacySuggester:
    name = getattr(settings, "NEWSNOTES_SPACY_PIPELINE", "gazetteer")
    if name != "gazetteer":
        import spacy

        return SpacySuggester(spacy.load(name))
    from annotations.models import Label
    from annotations.suggestions.propagation import gazetteer

    names = dict(Label.objects.values_list("pk", "name"))
    return SpacySuggester(gazetteer_pipeline({term: names[pk] for term, pk in gazetteer().items()}))


def suggest(text: str) -> list[tuple[int, int, str]]:
    """The suggester to name in ``NEWSNOTES_SUGGESTERS``: ``annotations.suggestions.spacy_adapter.suggest``."""
    return _configured()(text)

"""A brand-new family forms from imports alone: variants of a footer no family knows yet join it one import at a
time (exact repeats and near-duplicates through the MinHash bands), with the rebuild's rules against decoys, and
end up where a whole-corpus rebuild puts them."""

from __future__ import annotations

import pytest

from annotations.imports.services import corpus_import
from annotations.suggestions.boilerplate import boilerplate_rebuild
from annotations.suggestions.imports import import_checks
from annotations.suggestions.models import BoilerplateCopy, BoilerplateFamily, BoilerplatePassage, Suggestion
from annotations.suggestions.services import family_suggest
from articles.importers import ArticleRecord
from articles.models import Article
from tests.annotations.test_boilerplate import FOOTER, story
from tests.jobs import run_queued

pytestmark = pytest.mark.django_db

PRODUCT = FOOTER.replace("Gnoppix is", "Gnoppix Pro is")  # a product name
WORD = FOOTER.replace("fast, powerful", "quick, powerful").replace(" AI in", "  AI  in")  # a word, white space
LINK = FOOTER.replace("Learn more at", "Read more at")  # one word
DATE = FOOTER.replace("101", "977").replace("2022", "2023")  # same exact key as FOOTER after normalising


def import_one(n: int, tail: str, outlet: int, *, head: str = "", glue: str = "\n\n") -> Article:
    """One article through the import every user runs; then the boilerplate check job it queued."""
    body = (head + "\n\n" if head else "") + story(n) + (glue + tail if tail else "")
    record = ArticleRecord(title=f"Story {n}", body=body, location=f"t:{n}", source=f"outlet{outlet}.example")
    assert corpus_import(records=[record]).created_count == 1
    assert run_queued(import_checks) == 1
    return Article.objects.get(title=f"Story {n}")


def places() -> list[tuple[int, int, int, str]]:
    return sorted(BoilerplateCopy.objects.values_list("article_id", "start", "end", "text"))


@pytest.mark.parametrize(
    "tails",
    [
        # A variant first (near nothing that repeats: no cluster yet), then a word-for-word repeat makes a
        # cluster, which gathers the earlier variant: three articles, a family.
        [FOOTER, PRODUCT, DATE, WORD, LINK],
        # A repeat first (a cluster of two articles: no family), then a variant joins it through its bands.
        [FOOTER, DATE, PRODUCT, WORD, LINK],
    ],
    ids=["variant-before-repeat", "repeat-before-variant"],
)
def test_variants_of_a_new_footer_form_a_family_import_by_import(tails, labels, curator):
    articles = []
    for n, tail in enumerate(tails):
        articles.append(import_one(n, tail, n % 4))
        # Before three articles from two outlets hold it, it is no family (the rebuild's threshold).
        assert BoilerplateFamily.objects.exists() == (n >= 2)
    family = BoilerplateFamily.objects.get()
    assert family.text in tails
    assert (family.article_count, family.source_count, family.copy_count) == (5, 4, 5)
    for article, tail in zip(articles, tails, strict=True):
        (copy,) = BoilerplateCopy.objects.filter(article=article)
        assert copy.text == tail == article.body[copy.start : copy.end]

    # Suggestions appear on every copy, as after a rebuild; and a rebuild finds the same family in the same places.
    assert family_suggest(family=family, actor=curator).created == 5
    suggested = sorted(Suggestion.objects.values_list("article_id", "start", "end", "text"))
    incremental = places()
    assert suggested == incremental
    boilerplate_rebuild()
    assert places() == incremental
    # The same family (its representative may differ: the rebuild also weighs the footer's repeated sentences).
    rebuilt = BoilerplateFamily.objects.get()
    assert (rebuilt.pk, rebuilt.article_count) == (family.pk, 5) and rebuilt.text in tails


def test_a_variant_in_another_outlet_joins_a_repeat_that_was_no_family(labels):
    """Two copies from one outlet are a cluster but no family (one source); a near-duplicate from a second outlet
    makes it one, with all three copies."""

    first = import_one(1, FOOTER, 0)
    second = import_one(2, FOOTER, 0)
    assert not BoilerplateFamily.objects.exists()
    assert BoilerplatePassage.objects.filter(article=first).exclude(cluster=None).exists()
    third = import_one(3, PRODUCT, 1)
    family = BoilerplateFamily.objects.get()
    assert sorted(BoilerplateCopy.objects.values_list("article_id", "text")) == [
        (first.pk, FOOTER),
        (second.pk, FOOTER),
        (third.pk, PRODUCT),
    ]
    assert (family.article_count, family.source_count) == (3, 2)


def test_decoys_imported_one_by_one_make_no_family(labels):

    quote = "“We stopped chasing peak teraflops two years ago and never looked back at all,” said Mara Okonkwo."
    near_quote = quote.replace("never looked", "never once looked")
    fact = "The regulator opened a formal review of the merger on Tuesday after months of complaints by rivals."
    headline = "Larchfield bets on chiplets with its new inference accelerator"
    phrase = "The company did not immediately respond to a request for comment."
    n = 0
    # A quote shared by stories about one event, word for word and nearly, at their end.
    for outlet, tail in enumerate([quote, near_quote, quote, near_quote]):
        import_one(n := n + 1, tail, outlet)
    for outlet in range(2):  # an unquoted paragraph shared by two stories only
        import_one(n := n + 1, fact, outlet)
    for outlet in range(6):  # a shared headline at the top, a common short closing phrase
        import_one(n := n + 1, phrase, outlet % 4, head=headline, glue=" ")
    for outlet in range(4):  # a long repeat (and a variant) in the middle of the story, not at its end
        import_one(n := n + 1, "", outlet, head=FOOTER if outlet % 2 else PRODUCT)
    for _ in range(4):  # one outlet repeating its own footer and a variant is not syndication
        import_one(n := n + 1, PRODUCT if n % 2 else FOOTER, 3)
    assert not BoilerplateFamily.objects.exists()
    assert not BoilerplateCopy.objects.exists()
    # The rebuild agrees.
    assert boilerplate_rebuild().families == 0

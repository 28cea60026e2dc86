"""Boilerplate families: found with their variations, not fooled by decoys, exact offsets, JSON, suggestions,
the curators' admin page and its actions, and who may see it."""

from __future__ import annotations

import io
import json
import random

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from lxml import html

from annotations.models import Label, LabelKind
from annotations.spans.services import span_create
from annotations.suggestions import text as tx
from annotations.suggestions.boilerplate import boilerplate_check_articles, boilerplate_rebuild
from annotations.suggestions.models import BoilerplateCopy, BoilerplateFamily, FamilyStatus, Suggestion
from annotations.suggestions.selectors import families_as_json
from annotations.suggestions.services import family_dismiss, family_suggest
from tests.factories import ArticleFactory, SourceFactory

pytestmark = pytest.mark.django_db

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "pe", "du"]
VOCABULARY = [a + b + c for a in SYLLABLES for b in SYLLABLES for c in SYLLABLES]

FOOTER = (
    "Gnoppix is the leading open-source AI Linux distribution and service provider. Since implementing AI in "
    "2022, it has offered a fast, powerful, secure, and privacy-respecting open-source OS with both local and "
    "remote AI capabilities. Learn more at https://gnoppix.example/?utm_source=feed&utm_campaign=101."
)
CTA = "What are your thoughts on this? I’d love to hear about your own experiences in the comments below."


def story(n: int, paragraphs: int = 4) -> str:
    """A body of made-up words, different for every ``n`` (nothing in it repeats across stories)."""
    rng = random.Random(n)
    return "\n\n".join(
        " ".join(
            " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(10, 16))).capitalize() + "." for _ in range(3)
        )
        for _ in range(paragraphs)
    )


@pytest.fixture
def sources():
    return [SourceFactory(domain=f"outlet{i}.example") for i in range(4)]


def make(n: int, source, tail: str = "", *, glue: str = "\n\n", head: str = "") -> object:
    body = (head + "\n\n" if head else "") + story(n) + (glue + tail if tail else "")
    return ArticleFactory(body=body, source=source)


def copies_of(article) -> list[BoilerplateCopy]:
    return list(BoilerplateCopy.objects.filter(article=article).order_by("start"))


# --- finding families -----------------------------------------------------------------------------------------


def test_variants_of_a_footer_form_one_family_with_exact_copies(sources):
    variants = [
        FOOTER,
        FOOTER.replace("101", "977").replace("2022", "2023"),  # tracking link and date
        FOOTER.replace("Gnoppix is", "Gnoppix Pro is"),  # a product name
        FOOTER.replace("fast, powerful", "quick, powerful").replace(" AI in", "  AI  in"),  # a word, white space
        FOOTER.replace("Learn more at", "Read more at"),
    ]
    articles = [make(i, sources[i % 4], v) for i, v in enumerate(variants)]
    result = boilerplate_rebuild()
    assert result.families == 1
    family = BoilerplateFamily.objects.get()
    assert family.text == FOOTER
    assert (family.article_count, family.source_count, family.copy_count) == (5, 4, 5)
    assert family.end_share == 1.0
    for article, variant in zip(articles, variants, strict=True):
        [copy] = copies_of(article)
        assert copy.text == variant == article.body[copy.start : copy.end]


def test_a_footer_glued_to_the_last_paragraph_is_found_as_its_sentences(sources):
    own = [make(i, sources[i % 3], CTA) for i in range(3)]
    glued = make(10, sources[3], CTA, glue=" ")
    boilerplate_rebuild()
    family = BoilerplateFamily.objects.get()
    assert family.text == CTA
    [copy] = copies_of(glued)
    assert copy.text == CTA and glued.body.endswith(" " + CTA)
    assert all(copies_of(a)[0].text == CTA for a in own)


def test_two_footers_make_two_families(sources):
    for i in range(4):
        make(i, sources[i % 4], FOOTER + "\n\n" + CTA)
    boilerplate_rebuild()
    assert sorted(BoilerplateFamily.objects.values_list("text", flat=True)) == sorted([FOOTER, CTA])
    assert sorted(BoilerplateFamily.objects.values_list("end_share", flat=True)) == [1.0, 1.0]


def test_decoys_are_not_boilerplate(sources):
    quote = "“We stopped chasing peak teraflops two years ago and never looked back at all,” said Mara Okonkwo."
    fact = "The regulator opened a formal review of the merger on Tuesday after months of complaints by rivals."
    headline = "Larchfield bets on chiplets with its new inference accelerator"
    phrase = "The company did not immediately respond to a request for comment."
    n = 0
    for i in range(3):  # a quote shared by three stories about one event, at their end
        make(n := n + 1, sources[i], quote)
    for i in range(2):  # an unquoted paragraph shared by two stories
        make(n := n + 1, sources[i], fact)
    for i in range(6):  # a shared headline at the top, a common short closing phrase
        make(n := n + 1, sources[i % 4], phrase, head=headline, glue=" ")
    for i in range(4):  # a long repeat in the middle of the story, not at its end
        make(n := n + 1, sources[i], head=FOOTER)
    assert boilerplate_rebuild().families == 0
    assert not BoilerplateCopy.objects.exists()


def test_one_source_is_not_syndication(sources):
    for i in range(5):
        make(i, sources[0], FOOTER)
    assert boilerplate_rebuild().families == 0


def test_offsets_stay_exact_after_emoji_and_other_scripts(sources):
    plain = [make(i, sources[i], FOOTER) for i in range(3)]
    body = "👩🏽‍💻 Ünïcödé 東京 مرحبا e\u0301\n\n" + story(99) + " 🚀🇫🇷\n\n" + FOOTER
    emoji = ArticleFactory(body=body, source=sources[3])
    boilerplate_rebuild()
    [copy] = copies_of(emoji)
    assert emoji.body[copy.start : copy.end] == copy.text == FOOTER
    assert copy.start == len(body) - len(FOOTER)
    assert len(copy.text.encode("utf-16-le")) // 2 == copy.end - copy.start  # no astral characters in it
    assert [copies_of(a)[0].start for a in plain] == [len(a.body) - len(FOOTER) for a in plain]


def test_passages_are_cut_at_code_points():
    body = "Intro 😀.\n\nFirst sentence here. " + CTA
    passages = tx.passages(body)
    assert CTA in [body[p.start : p.end] for p in passages]
    assert all(body[p.start : p.end] == body[p.start : p.end].strip() for p in passages)


# --- incremental ----------------------------------------------------------------------------------------------


def test_check_finds_known_families_in_new_articles_and_is_idempotent(sources):
    for i in range(3):
        make(i, sources[i], FOOTER)
    boilerplate_rebuild()
    family = BoilerplateFamily.objects.get()
    new = make(50, sources[3], FOOTER.replace("101", "55"))
    other = make(51, sources[3])
    result = boilerplate_check_articles(article_ids=[new.pk, other.pk])
    assert (result.copies, result.new_families) == (1, [])
    assert boilerplate_check_articles(article_ids=[new.pk, other.pk]).copies == 1
    [copy] = copies_of(new)
    assert copy.family == family and copy.text == new.body[copy.start : copy.end]
    assert not copies_of(other)
    family.refresh_from_db()
    assert (family.article_count, family.source_count) == (4, 4)


def test_check_discovers_a_family_once_enough_articles_repeat_a_passage(sources):
    first = make(1, sources[0], CTA)
    second = make(2, sources[1], CTA)
    boilerplate_rebuild()
    assert not BoilerplateFamily.objects.exists()  # two articles are not enough
    third = make(3, sources[2], CTA)
    result = boilerplate_check_articles(article_ids=[third.pk])
    [family] = BoilerplateFamily.objects.all()
    assert result.new_families == [family.pk]
    assert {c.article_id for c in family.copies.all()} == {first.pk, second.pk, third.pk}
    assert family.article_count == 3


def test_the_check_of_a_slice_tests_no_key_overlap_row_by_row(sources):
    """The import's checks job looks a slice's keys up by joins, in as many statements for 12 articles as for 3.

    PostgreSQL answered ``keys && <every key of the slice>`` (and ``k = ANY(<every key>)``) with a scan testing
    the overlap on each passage or family, each test comparing every key with every key: 104 s for one
    2,000-article slice of the 10k bench, 415 s for the job."""
    for i in range(3):
        make(i, sources[i], FOOTER)
    boilerplate_rebuild()
    roots = [make(100 + i, sources[i], CTA) for i in range(2)]  # a repeat: a cluster's first passage
    boilerplate_check_articles(article_ids=[a.pk for a in roots])

    def check(n: int, base: int) -> list[str]:
        articles = [make(base + i, sources[i % 4], FOOTER if i % 2 else "") for i in range(n)]
        with CaptureQueriesContext(connection) as queries:
            boilerplate_check_articles(article_ids=[a.pk for a in articles])
        return [q["sql"] for q in queries.captured_queries]

    small, large = check(3, 200), check(12, 300)
    assert len(large) == len(small)
    for sql in large:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "&&" not in plan, plan


# --- listing, dismissing, suggesting --------------------------------------------------------------------------


@pytest.fixture
def two_families(sources, labels, editor):
    footer_articles = [make(i, sources[i % 4], FOOTER + "\n\n" + CTA) for i in range(5)]
    cta_articles = [make(10 + i, sources[i % 4], CTA) for i in range(3)]
    boilerplate_rebuild()
    footer = BoilerplateFamily.objects.get(text=FOOTER)
    cta = BoilerplateFamily.objects.get(text=CTA)
    # An editor already labelled one copy as sponsored (the span leaves out the final full stop: still labelled).
    copy = footer.copies.get(article=footer_articles[0])
    span_create(
        article=footer_articles[0], label=labels["sponsored"], start=copy.start, end=copy.end - 1, annotator=editor
    )
    return {"footer": footer, "cta": cta, "footer_articles": footer_articles, "cta_articles": cta_articles}


def test_find_boilerplate_json_lists_families_largest_first(two_families):
    out, err = io.StringIO(), io.StringIO()
    call_command("find_boilerplate", "--format", "json", stdout=out, stderr=err)
    data = json.loads(out.getvalue())
    footer, cta = two_families["footer"], two_families["cta"]
    assert data == [
        {
            "id": cta.pk,
            "text": CTA,
            "articles": sorted(a.pk for a in two_families["footer_articles"] + two_families["cta_articles"]),
            "sources": 4,
            "copies": 8,
            "labelled": 0,
        },
        {
            "id": footer.pk,
            "text": FOOTER,
            "articles": sorted(a.pk for a in two_families["footer_articles"]),
            "sources": 4,
            "copies": 5,
            "labelled": 1,
        },
    ]


def test_find_boilerplate_text_summary(two_families):
    out = io.StringIO()
    call_command("find_boilerplate", "--no-progress", stdout=out)
    assert out.getvalue().startswith("2 families (13 copies) in 8 articles")


def test_dismissed_families_stay_dismissed_after_a_rebuild(two_families, curator):
    footer = two_families["footer"]
    family_dismiss(family=footer, actor=curator)
    result = boilerplate_rebuild()
    assert (result.families, result.dismissed) == (1, 1)
    footer.refresh_from_db()
    assert footer.status == FamilyStatus.DISMISSED and footer.dismissed_by == curator
    assert footer.copy_count == 5
    assert [f["id"] for f in families_as_json()] == [two_families["cta"].pk]
    # A new copy joins the dismissed family; it does not start a new one.
    new = make(90, SourceFactory(domain="late.example"), FOOTER)
    assert boilerplate_check_articles(article_ids=[new.pk]).new_families == []
    assert copies_of(new)[0].family == footer


def test_family_suggest_makes_pending_suggestions_once(two_families, curator, labels):
    footer = two_families["footer"]
    result = family_suggest(family=footer, actor=curator)
    assert (result.created, result.labelled, result.existing) == (4, 1, 0)
    suggestions = list(Suggestion.objects.order_by("article_id"))
    assert [s.article_id for s in suggestions] == [a.pk for a in two_families["footer_articles"][1:]]
    for s in suggestions:
        assert (s.label, s.status, s.origin, s.family, s.created_by) == (
            labels["sponsored"], "pending", "boilerplate", footer, curator,
        )  # fmt: skip
        assert s.text == s.article.body[s.start : s.end] == FOOTER
    suggestions[0].status, suggestions[0].decided_at = "rejected", suggestions[0].created_at
    suggestions[0].save()
    again = family_suggest(family=footer, actor=curator)
    assert (again.created, again.labelled, again.existing) == (0, 1, 4)
    assert Suggestion.objects.count() == 4


def test_family_suggest_refuses_what_it_must(two_families, curator, editor, labels):
    footer = two_families["footer"]
    with pytest.raises(PermissionDenied):
        family_suggest(family=footer, actor=editor)
    with pytest.raises(ValidationError, match="not a boilerplate label"):
        family_suggest(family=footer, actor=curator, label=labels["person"])
    family_dismiss(family=footer, actor=curator)
    with pytest.raises(ValidationError, match="dismissed"):
        family_suggest(family=footer, actor=curator)
    assert not Suggestion.objects.exists()


def test_labelled_counts_key_on_label_kind_not_slug(two_families):
    sponsored = Label.objects.get(kind=LabelKind.BOILERPLATE)
    sponsored.slug, sponsored.name = "vendor-blurb", "VENDOR BLURB"
    sponsored.save()
    assert {f["id"]: f["labelled"] for f in families_as_json()}[two_families["footer"].pk] == 1


# --- the database keeps offsets honest -------------------------------------------------------------------------


def _raw_suggestion(article, label, start, end, text):
    with connection.cursor() as cursor:
        cursor.execute(
            'INSERT INTO annotations_suggestion (article_id, label_id, start, "end", text, origin, status, '
            "created_at) VALUES (%s, %s, %s, %s, %s, 'boilerplate', 'pending', now())",
            [article.pk, label.pk, start, end, text],
        )


def test_suggestion_text_must_match_the_body(labels):
    article = ArticleFactory(body="😀 Sponsored words here.")
    _raw_suggestion(article, labels["sponsored"], 2, 11, "Sponsored")
    for start, end, text in [(2, 11, "Sponsorex"), (0, 4, "😀 Sp!"), (20, 40, "x" * 20)]:
        with pytest.raises(IntegrityError), transaction.atomic():
            _raw_suggestion(article, labels["sponsored"], start, end, text)


def test_a_changed_body_drops_what_was_derived_from_it(two_families, labels):
    article = two_families["cta_articles"][0]
    _raw_suggestion(article, labels["sponsored"], 0, 5, article.body[:5])
    with connection.cursor() as cursor:
        # The body's hash must follow it (article_body_sha256_matches_body).
        cursor.execute(
            "UPDATE articles_article SET body = body || ' More.', "
            "body_sha256 = encode(sha256(convert_to(body || ' More.', 'UTF8')), 'hex') WHERE id = %s",
            [article.pk],
        )
    assert not BoilerplateCopy.objects.filter(article=article).exists()
    assert not Suggestion.objects.filter(article=article).exists()


# --- the curators' admin page ---------------------------------------------------------------------------------

CHANGELIST = reverse("admin:annotations_boilerplatefamily_changelist")
REBUILD = reverse("admin:annotations_boilerplatefamily_rebuild")


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client


def test_changelist_lists_families_by_size_with_counts(curator_client, two_families):
    page = html.fromstring(curator_client.get(CHANGELIST).content)
    rows = page.xpath('//table[@id="result_list"]/tbody/tr')
    assert [r.xpath('./td[contains(@class, "field-article_count")]')[0].text_content() for r in rows] == ["8", "5"]
    assert [r.xpath('./td[contains(@class, "field-labelled_count")]')[0].text_content() for r in rows] == ["0", "1"]
    assert (
        rows[1]
        .xpath('./th[contains(@class, "field-excerpt")]//a')[0]
        .text_content()
        .startswith("Gnoppix is the leading")
    )
    assert page.xpath('//a[@class="nn-rebuild-link"]')[0].get("href") == REBUILD


def test_change_page_shows_an_escaped_word_diff_of_the_variants(curator_client, sources):
    evil = FOOTER.replace("local and", "local <script>alert(1)</script>")
    for i, tail in enumerate([FOOTER, FOOTER, FOOTER, evil]):
        make(i, sources[i], tail)
    boilerplate_rebuild()
    family = BoilerplateFamily.objects.get()
    response = curator_client.get(reverse("admin:annotations_boilerplatefamily_change", args=[family.pk]))
    content = response.content.decode()
    assert "<script>alert(1)</script>" not in content and "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    page = html.fromstring(content)
    variants = page.xpath('//ol[@class="nn-variants"]/li')
    assert [v.xpath('.//span[@class="nn-variant-count"]')[0].text_content() for v in variants] == ["3 ×", "1 ×"]
    assert not variants[0].xpath(".//ins | .//del")
    assert [e.text_content() for e in variants[1].xpath(".//ins")] == ["<script>alert(1)</script>"]
    assert [e.text_content() for e in variants[1].xpath(".//del")] == ["and"]
    assert [li.text_content() for li in page.xpath('//ul[@class="nn-sources"]/li')] == [
        f"outlet{i}.example (1)" for i in range(4)
    ]
    assert " style=" not in content and "<script>" not in content.replace("&lt;script&gt;", "")


def post_action(client, action: str, families, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [f.pk for f in families], "index": 0, **extra}
    return client.post(CHANGELIST, data)


def test_dismiss_action_confirms_then_dismisses(curator_client, two_families):
    footer = two_families["footer"]
    confirm = post_action(curator_client, "dismiss_families", [footer])
    assert confirm.status_code == 200
    assert html.fromstring(confirm.content).xpath('//input[@name="post"][@value="yes"]')
    assert BoilerplateFamily.objects.get(pk=footer.pk).status == "active"
    done = post_action(curator_client, "dismiss_families", [footer], post="yes")
    assert done.status_code == 302
    assert BoilerplateFamily.objects.get(pk=footer.pk).status == "dismissed"


def test_suggest_action_uses_the_chosen_boilerplate_label(curator_client, two_families, labels):
    cta = two_families["cta"]
    confirm = html.fromstring(post_action(curator_client, "suggest_label", [cta]).content)
    options = confirm.xpath('//select[@name="label"]/option')
    assert [(o.text_content(), o.get("selected") is not None) for o in options] == [("SPONSORED", True)]
    done = post_action(curator_client, "suggest_label", [cta], post="yes", label=labels["sponsored"].pk)
    assert done.status_code == 302
    assert Suggestion.objects.filter(family=cta, status="pending").count() == 8


def test_rebuild_action_and_button(curator_client, two_families):
    BoilerplateCopy.objects.all().delete()
    done = post_action(curator_client, "rebuild_families", [two_families["cta"]], post="yes")
    assert done.status_code == 302 and BoilerplateCopy.objects.count() == 13
    BoilerplateFamily.objects.all().delete()
    page = html.fromstring(curator_client.get(REBUILD).content)
    assert page.xpath(f'//form[@method="post"][@action="{REBUILD}"]//input[@type="submit"]')
    assert curator_client.post(REBUILD).status_code == 302
    assert BoilerplateFamily.objects.count() == 2


@pytest.mark.parametrize("role", ["editor", "reviewer", "researcher"])
def test_only_curators_reach_the_families(client, role, request, two_families):
    user = request.getfixturevalue(role)
    client.force_login(user)
    change = reverse("admin:annotations_boilerplatefamily_change", args=[two_families["cta"].pk])
    for url in (CHANGELIST, change, REBUILD):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    user.is_staff = True  # even let into the admin, their roles hold no permission on families
    user.save()
    for url in (CHANGELIST, change, REBUILD):
        assert client.get(url).status_code == 403
    assert client.post(REBUILD).status_code == 403
    assert post_action(client, "dismiss_families", [two_families["cta"]], post="yes").status_code == 403
    assert BoilerplateFamily.objects.filter(status="active").count() == 2


def test_anonymous_users_are_sent_to_log_in(client, two_families):
    for url in (CHANGELIST, REBUILD):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    assert client.post(REBUILD).status_code == 302
    assert BoilerplateFamily.objects.count() == 2


def test_changelist_query_count_does_not_grow_with_families(curator_client, two_families):
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert curator_client.get(CHANGELIST).status_code == 200
    BoilerplateFamily.objects.bulk_create(BoilerplateFamily(text=f"Another repeated footer {i}") for i in range(10))
    with CaptureQueriesContext(connection) as many:
        page = html.fromstring(curator_client.get(CHANGELIST).content)
    assert len(page.xpath('//table[@id="result_list"]/tbody/tr')) == 12
    assert len(many.captured_queries) == len(few.captured_queries)

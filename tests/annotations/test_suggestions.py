"""Suggestions as editors meet them: propagation in an article and across the corpus, plug-ins (spaCy with a
blank pipeline), accept/reject/undo, rejections that never return, blind labelling, the queue's counts, the
import hook, and permissions on every service and URL."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from lxml import html

from annotations.imports.records import AnnotatedRecord, SpanRecord
from annotations.imports.services import corpus_import
from annotations.models import Label, Span
from annotations.spans.services import span_create
from annotations.suggestions import decisions
from annotations.suggestions.boilerplate import boilerplate_rebuild
from annotations.suggestions.imports import import_checks
from annotations.suggestions.models import (
    BoilerplateCopy,
    BoilerplateFamily,
    DecisionKind,
    Suggestion,
    SuggestionDecision,
    SuggestionOrigin,
)
from annotations.suggestions.propagation import gazetteer_propagate, suggestions_propagate_span
from annotations.suggestions.services import family_suggest
from annotations.suggestions.suggesters import suggesters_run
from annotations.workspace import undo
from articles.importers import ArticleRecord, ImportFailure
from articles.models import Article
from tests.factories import ArticleFactory, SourceFactory
from tests.jobs import run_queued
from tests.workspace import HX, create, url

pytestmark = pytest.mark.django_db

BODY = (
    "Yann LeCun spoke first. Later, Yann LeCun's lab replied; Yann LeCunning is not him, nor is XYann LeCun.\n"
    "“Yann LeCun is wrong,” said Ana. Anaïs disagreed with Ana."
)


def occurrences(text: str, needle: str) -> list[int]:
    found, at = [], text.find(needle)
    while at != -1:
        found.append(at)
        at = text.find(needle, at + 1)
    return found


def places(article, **filters) -> list[tuple[int, int, str]]:
    return list(
        Suggestion.objects.filter(article=article, **filters).order_by("start").values_list("start", "end", "text")
    )


# --- propagation in one article ----------------------------------------------------------------------------


def test_labelling_a_name_suggests_its_other_whole_word_occurrences(labels, editor):
    article = ArticleFactory(body=BODY)
    span = span_create(article=article, label=labels["person"], start=0, end=10, annotator=editor)
    assert suggestions_propagate_span(span=span) == 2
    starts = occurrences(BODY, "Yann LeCun")
    # Not inside "Yann LeCunning" nor "XYann LeCun"; the possessive "Yann LeCun's" and the quoted one are words.
    expected = [s for s in starts[1:] if BODY[s - 1 : s] != "X" and BODY[s + 10 : s + 11] != "n"]
    assert [start for start, _, _ in places(article)] == expected
    assert {text for _, _, text in places(article)} == {"Yann LeCun"}
    assert set(Suggestion.objects.values_list("origin", "derived_from")) == {(SuggestionOrigin.PROPAGATION, editor.pk)}


def test_unicode_word_boundaries_keep_ana_out_of_anais(labels, editor):
    article = ArticleFactory(body=BODY)
    start = BODY.index("Ana.")
    span = span_create(article=article, label=labels["person"], start=start, end=start + 3, annotator=editor)
    suggestions_propagate_span(span=span)
    assert [s for s, _, _ in places(article)] == [BODY.rindex("Ana")]  # "with Ana", never "Anaïs"


def test_propagation_never_crosses_or_covers_another_label(labels, editor, other_editor):
    article = ArticleFactory(body=BODY)
    second = BODY.index("Yann LeCun's")
    # Someone marked "Later, Yann" as ORG: it crosses the second occurrence, which is therefore not suggested.
    span_create(article=article, label=labels["org"], start=second - 7, end=second + 4, annotator=other_editor)
    # A claim around the quoted name does not block it.
    claim_start = BODY.index("“")
    span_create(article=article, label=labels["claim"], start=claim_start, end=BODY.index("”") + 1, annotator=editor)
    span = span_create(article=article, label=labels["person"], start=0, end=10, annotator=editor)
    suggestions_propagate_span(span=span)
    assert [s for s, _, _ in places(article)] == [claim_start + 1]


def test_propagation_never_goes_over_the_same_place_with_another_label(labels, editor, other_editor):
    article = ArticleFactory(body="Apple Park is here; Apple is there.")
    span_create(article=article, label=labels["org"], start=20, end=25, annotator=other_editor)
    span_create(article=article, label=labels["org"], start=0, end=10, annotator=other_editor)  # "Apple Park"
    span = span_create(article=article, label=labels["person"], start=20, end=25, annotator=editor)
    # "Apple" inside the ORG "Apple Park" is covered (fine), but the other "Apple" is an ORG someone gave.
    assert suggestions_propagate_span(span=span) == 1
    assert places(article) == [(0, 5, "Apple")]


def test_claims_and_boilerplate_do_not_propagate(labels, editor):
    article = ArticleFactory(body="Same words. Same words.")
    span = span_create(article=article, label=labels["claim"], start=0, end=10, annotator=editor)
    assert suggestions_propagate_span(span=span) == 0
    assert not Suggestion.objects.exists()


# --- accept, reject, undo, never returning -------------------------------------------------------------------


def _propagated(labels, editor, body=BODY):
    article = ArticleFactory(body=body)
    span = span_create(article=article, label=labels["person"], start=0, end=10, annotator=editor)
    suggestions_propagate_span(span=span)
    return article, list(decisions.suggestions_for_editor(article=article, editor=editor))


def test_accepting_makes_the_editors_own_span_with_suggestion_origin(labels, editor):
    article, shown = _propagated(labels, editor)
    span = decisions.suggestion_accept(suggestion_id=shown[0].pk, article=article, editor=editor)
    assert (span.start, span.end, span.text, span.origin, span.annotator) == (
        shown[0].start,
        shown[0].end,
        "Yann LeCun",
        Span.Origin.SUGGESTION,
        editor,
    )
    assert shown[0].pk not in {s.pk for s in decisions.suggestions_for_editor(article=article, editor=editor)}
    decision = SuggestionDecision.objects.get()
    assert (decision.decision, decision.span) == (DecisionKind.ACCEPTED, span)


def test_rejected_suggestion_never_returns_after_new_propagation_or_rebuild(labels, editor):
    article, shown = _propagated(labels, editor)
    rejected = shown[0]
    decisions.suggestion_reject(suggestion_id=rejected.pk, article=article, editor=editor)
    visible = {(s.start, s.end) for s in decisions.suggestions_for_editor(article=article, editor=editor)}
    assert (rejected.start, rejected.end) not in visible
    # The same editor labels the name again elsewhere; a curator propagates the gazetteer; families are rebuilt;
    # even a wholly new suggestion row at the same place (the old one deleted) stays hidden.
    again = shown[1]
    span = decisions.suggestion_accept(suggestion_id=again.pk, article=article, editor=editor)
    suggestions_propagate_span(span=span)
    boilerplate_rebuild()
    Suggestion.objects.filter(pk=rejected.pk).delete()
    Suggestion.objects.create(
        article=article,
        label=labels["person"],
        start=rejected.start,
        end=rejected.end,
        text=rejected.text,
        origin=SuggestionOrigin.PLUGIN,
    )
    visible = {(s.start, s.end) for s in decisions.suggestions_for_editor(article=article, editor=editor)}
    assert (rejected.start, rejected.end) not in visible


def test_rejection_is_per_editor(labels, editor, other_editor):
    article = ArticleFactory(body="Ada Lovelace met Ada Lovelace.")
    suggestion = Suggestion.objects.create(
        article=article, label=labels["person"], start=17, end=29, text="Ada Lovelace", origin=SuggestionOrigin.PLUGIN
    )
    decisions.suggestion_reject(suggestion_id=suggestion.pk, article=article, editor=editor)
    assert not decisions.suggestions_for_editor(article=article, editor=editor).exists()
    assert list(decisions.suggestions_for_editor(article=article, editor=other_editor)) == [suggestion]


def test_undo_of_a_rejection_brings_it_back_and_undo_of_accept_removes_the_span(labels, editor):
    article, shown = _propagated(labels, editor)
    store: list = []

    class Store:
        def load(self):
            return list(store)

        def append(self, entry):
            store.append(entry)

        def pop(self):
            return store.pop() if store else None

    decisions.suggestion_reject(suggestion_id=shown[0].pk, article=article, editor=editor)
    undo.undo_record(Store(), undo.SuggestionRejected(suggestion=shown[0].pk))
    span = decisions.suggestion_accept(suggestion_id=shown[1].pk, article=article, editor=editor)
    undo.undo_record(Store(), undo.SuggestionsAccepted(spans=(span.pk,)))
    # Entries survive the JSON round trip the stores use.
    assert [undo.from_json(undo.to_json(entry)) for entry in store] == store

    done = undo.undo_last(article=article, actor=editor, store=Store())
    assert not done.refused, done.message
    assert not Span.objects.filter(pk=span.pk).exists()
    done = undo.undo_last(article=article, actor=editor, store=Store())
    assert not done.refused, done.message
    visible = {s.pk for s in decisions.suggestions_for_editor(article=article, editor=editor)}
    assert {shown[0].pk, shown[1].pk} <= visible


def test_accept_all_of_a_label(labels, editor):
    article, shown = _propagated(labels, editor)
    accepted = decisions.suggestions_accept_label(article=article, label=labels["person"], editor=editor)
    assert len(accepted) == len(shown) == 2
    assert [(pk, span.start, span.end) for pk, span in accepted] == [(s.pk, s.start, s.end) for s in shown]
    assert not decisions.suggestions_for_editor(article=article, editor=editor).exists()


def test_a_rejected_suggestion_cannot_be_accepted_by_a_stale_page(labels, editor):
    article, shown = _propagated(labels, editor)
    decisions.suggestion_reject(suggestion_id=shown[0].pk, article=article, editor=editor)
    with pytest.raises(ValidationError):
        decisions.suggestion_accept(suggestion_id=shown[0].pk, article=article, editor=editor)
    assert Span.objects.filter(origin=Span.Origin.SUGGESTION).count() == 0


# --- blind labelling -----------------------------------------------------------------------------------------


def test_suggestions_from_another_editors_span_stay_hidden_until_review(labels, editor, other_editor):
    article, shown = _propagated(labels, editor)
    assert shown
    assert not decisions.suggestions_for_editor(article=article, editor=other_editor).exists()
    with pytest.raises(ValidationError):
        decisions.suggestion_accept(suggestion_id=shown[0].pk, article=article, editor=other_editor)
    article.status = article.Status.REVIEWED
    article.save(update_fields=["status"])
    assert decisions.suggestions_for_editor(article=article, editor=other_editor).count() == len(shown)


def test_two_editors_propagating_the_same_name_get_their_own_rows(labels, editor, other_editor):
    article = ArticleFactory(body="Grace Hopper and Grace Hopper.")
    for who in (editor, other_editor):
        span = span_create(article=article, label=labels["person"], start=0, end=12, annotator=who)
        assert suggestions_propagate_span(span=span) == 1
    assert decisions.suggestions_for_editor(article=article, editor=other_editor).get().derived_from == other_editor


def test_database_keeps_one_suggestion_per_place_label_and_editor(labels, editor):
    article = ArticleFactory(body="Grace Hopper")
    with connection.cursor() as cursor:
        sql = (
            'INSERT INTO annotations_suggestion (article_id, label_id, start, "end", text, origin, status, '
            "created_at, derived_from_id) VALUES (%s, %s, 0, 5, 'Grace', 'plugin', 'pending', now(), NULL)"
        )
        cursor.execute(sql, [article.pk, labels["person"].pk])
        with pytest.raises(IntegrityError, match="suggestion_unique_place"), transaction.atomic():
            cursor.execute(sql, [article.pk, labels["person"].pk])


# --- corpus-wide gazetteer -----------------------------------------------------------------------------------


def test_gazetteer_propagates_across_the_corpus_with_the_same_rules(labels, editor, curator):
    labelled = ArticleFactory(body="Lisa Su leads AMD.")
    span_create(article=labelled, label=labels["person"], start=0, end=7, annotator=editor)
    span_create(article=labelled, label=labels["org"], start=14, end=17, annotator=editor)
    target = ArticleFactory(body="AMD said Lisa Su, not Lisa Sue, nor AMDX, would speak. 🧑🏽‍💻 Lisa Su.")
    ticks = []
    result = gazetteer_propagate(actor=curator, progress=lambda done, total: ticks.append((done, total)))
    assert result.terms == 2
    found = places(target)
    assert [text for _, _, text in found] == ["AMD", "Lisa Su", "Lisa Su"]
    for start, end, text in found:
        assert target.body[start:end] == text
    assert ticks[-1] == (2, 2)
    # The labelled article gets nothing where the editor's own spans already are.
    assert places(labelled) == []
    # Run twice: nothing new.
    assert gazetteer_propagate(actor=curator).created == 0


def test_only_curators_propagate_the_gazetteer(editor):
    with pytest.raises(PermissionDenied):
        gazetteer_propagate(actor=editor)


def test_propagate_labels_command_prints_progress_and_counts(labels, editor, curator):
    article = ArticleFactory(body="Jensen Huang and Jensen Huang")
    span_create(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    out = io.StringIO()
    call_command("propagate_labels", "--as", curator.username, stdout=out)
    assert "1 suggestion" in out.getvalue()
    assert places(article) == [(17, 29, "Jensen Huang")]


# --- plug-ins ------------------------------------------------------------------------------------------------


def bad_and_good_suggester(text: str):
    at = text.index("Ada")
    return [
        (at, at + 3, "person"),  # label names ignore case
        (at, at + 3, "NOPE"),  # unknown label
        (-1, 2, "PERSON"),  # outside the text
        (0, len(text) + 1, "PERSON"),
        (1.0, 2, "PERSON"),  # not an integer
        "junk",
    ]


def test_suggesters_are_checked_before_anything_is_stored(labels, settings):
    settings.NEWSNOTES_SUGGESTERS = ["tests.annotations.test_suggestions.bad_and_good_suggester"]
    article = ArticleFactory(body="🇺🇦 Ada wrote.")
    result = suggesters_run(article_ids=[article.pk])
    assert (result.created, result.skipped) == (1, 5)
    assert places(article) == [(3, 6, "Ada")]


def test_spacy_blank_pipeline_with_a_gazetteer_entity_ruler(labels, editor, settings):
    pytest.importorskip("spacy")
    from annotations.suggestions import spacy_adapter

    labelled = ArticleFactory(body="Mira Murati left.")
    span_create(article=labelled, label=labels["person"], start=0, end=11, annotator=editor)
    settings.NEWSNOTES_SUGGESTERS = ["annotations.suggestions.spacy_adapter.suggest"]
    settings.NEWSNOTES_SPACY_PIPELINE = "gazetteer"
    spacy_adapter._configured.cache_clear()
    article = ArticleFactory(body="👩🏽‍🔬 e\u0301 Mira Murati and Mira Murati.")
    try:
        result = suggesters_run(article_ids=[article.pk])
    finally:
        spacy_adapter._configured.cache_clear()
    assert result.created == 2
    for start, end, text in places(article):
        assert article.body[start:end] == text == "Mira Murati"
    assert places(article)[0][0] == article.body.index("Mira")


# --- imports ---------------------------------------------------------------------------------------------------


def test_every_import_queues_the_check_of_its_new_articles_against_families(labels):
    footer = (
        "Quillix OS is the privacy-first Linux distribution trusted by newsrooms. Learn more at "
        "https://quillix.example/?ref=feed."
    )
    sources = [SourceFactory(domain=f"o{i}.example") for i in range(3)]
    for i in range(3):
        ArticleFactory(body=f"Story {i} about chips and memory.\n\nMore words {i}.\n\n{footer}", source=sources[i])
    boilerplate_rebuild()
    record = ArticleRecord(
        title="New", body=f"A fresh story about batteries.\n\n{footer}", location="t:1", source="o9.example"
    )
    result = corpus_import(records=[record])
    assert result.created_count == 1
    assert not BoilerplateCopy.objects.filter(article__title="New").exists()  # the import does not wait for it
    assert run_queued(import_checks) == 1
    copy = BoilerplateCopy.objects.get(article__title="New")
    assert copy.text == footer
    assert copy.article.body[copy.start : copy.end] == footer


def test_a_dry_run_or_a_failed_import_queues_no_check():
    corpus_import(records=[ArticleRecord(title="Dry", body="Text.", location="t:1")], dry_run=True)
    unknown = SpanRecord(start=0, end=4, label="no such label", text="Text")
    bad = [
        ArticleRecord(title="Good", body="Text.", location="t:1"),
        AnnotatedRecord(title="Bad", body="Text here.", location="t:2", spans=[unknown]),
    ]
    with pytest.raises(ImportFailure, match="t:2: span has no annotator"):
        corpus_import(records=bad)
    assert run_queued(import_checks) == 0
    assert not Article.objects.exists()


# --- the workspace over HTTP ------------------------------------------------------------------------------------


def _submitted(page, button):
    """What a browser without JavaScript posts for ``button``: its form's fields (the form its ``form`` attribute
    names) and its own name and value, to its ``formaction``."""
    form = page.get_element_by_id(button.get("form"))
    data = {field.get("name"): field.get("value") for field in form.cssselect("input[name]")}
    return button.get("formaction"), {**data, button.get("name"): button.get("value")}


def test_accept_and_reject_work_as_plain_form_posts_with_the_pages_one_token(labels, editor):
    """Without JavaScript: each suggestion's Accept and Reject submit the page's one form (its CSRF token) with
    their own action and value, and the server (checking CSRF) applies them. An item carries no token of its own."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(editor)
    article, _ = _propagated(labels, editor)
    page = html.fromstring(browser.get(url("article-annotate", article)).content)
    rows = page.cssselect("#ws-panel .sug-row")
    assert len(rows) == 2 and not any(row.cssselect("input, form") for row in rows)
    first, second = (int(row.get("id").removeprefix("ws-sug-item-")) for row in rows)
    action, data = _submitted(page, rows[0].cssselect(".sug-accept")[0])
    assert action == url("suggestion-accept", article) and data["suggestion"] == str(first)
    assert browser.post(action, data).status_code == 302
    action, data = _submitted(page, rows[1].cssselect(".sug-reject")[0])
    assert action == url("suggestion-reject", article) and data["suggestion"] == str(second)
    assert browser.post(action, data).status_code == 302
    assert Span.objects.filter(article=article, origin=Span.Origin.SUGGESTION).count() == 1
    assert SuggestionDecision.objects.get(suggestion_id=second).decision == DecisionKind.REJECTED
    assert browser.post(action, {"suggestion": second}).status_code == 403  # no token: refused


def test_workspace_shows_suggestions_as_outlined_and_named_and_answers_keys(editor_client, labels, editor):
    article = ArticleFactory(body=BODY)
    create(editor_client, article, labels["person"], "Yann LeCun")
    page = html.fromstring(editor_client.get(url("article-annotate", article)).content)
    outlined = page.cssselect("#ws-body .seg.sug")
    assert len(outlined) == 2
    assert all("suggested PERSON" in seg.get("data-labels") for seg in outlined)
    assert all(seg.get("data-opens", "").startswith("-") for seg in outlined)
    assert page.cssselect(".sug-item .visually-hidden")[0].text_content().strip() == "Suggested PERSON:"
    keys = {kbd.text_content() for kbd in page.cssselect("#ws-help kbd")}
    assert {"a", "x", "s"} <= keys
    # The editor's span list counts their spans only.
    assert page.cssselect("#ws-panel-title .count")[0].text_content() == "1"

    suggestion = decisions.suggestions_for_editor(article=article, editor=editor).first()
    response = editor_client.post(url("suggestion-reject", article), {"suggestion": suggestion.pk}, headers=HX)
    assert response.status_code == 200
    fragment = html.fromstring(response.content)
    assert len(fragment.cssselect(".seg.sug")) == 1
    response = editor_client.post(url("article-undo", article), headers=HX)
    assert len(html.fromstring(response.content).cssselect(".seg.sug")) == 2
    response = editor_client.post(url("suggestion-accept", article), {"suggestion": suggestion.pk}, headers=HX)
    assert response.status_code == 200
    assert Span.objects.filter(article=article, origin=Span.Origin.SUGGESTION, annotator=editor).count() == 1


def test_suggestion_urls_refuse_other_roles_and_bad_input(researcher, editor_client, labels, editor):
    client = Client()
    article = ArticleFactory(body="Ada and Ada")
    suggestion = Suggestion.objects.create(
        article=article, label=labels["person"], start=8, end=11, text="Ada", origin=SuggestionOrigin.PLUGIN
    )
    for name in ("suggestion-accept", "suggestion-reject"):
        assert client.post(url(name, article), {"suggestion": suggestion.pk}).status_code == 302  # to login
        client.force_login(researcher)
        assert client.post(url(name, article), {"suggestion": suggestion.pk}).status_code == 403
        client.logout()
        response = editor_client.post(url(name, article), {"suggestion": "x"}, headers=HX)
        assert response.status_code == 422
        assert editor_client.get(url(name, article)).status_code == 405
    client.force_login(researcher)
    assert client.post(url("suggestions-accept-label", article), {"label": labels["person"].pk}).status_code == 403
    assert not Span.objects.exists() and not SuggestionDecision.objects.exists()


def test_queue_counts_waiting_suggestions_in_one_query(editor_client, labels, editor, django_assert_max_num_queries):
    for n in range(5):
        article = ArticleFactory(body=f"Ada {n} and Ada and Ada")
        span = span_create(article=article, label=labels["person"], start=0, end=3, annotator=editor)
        suggestions_propagate_span(span=span)
    with CaptureQueriesContext(connection) as few:
        editor_client.get(reverse("annotations:article-list"))
    for n in range(10):
        ArticleFactory(body=f"Nothing here {n}")
    with CaptureQueriesContext(connection) as many:
        page = html.fromstring(editor_client.get(reverse("annotations:article-list")).content)
    assert len(many) == len(few)
    counts = [int(cell.text_content()) for cell in page.cssselect("[data-suggestions]")]
    assert sorted(counts, reverse=True)[:5] == [2] * 5


def test_family_suggestions_then_accept_keep_exact_offsets_through_csv_export(labels, editor, curator, client):
    footer = (
        "Zentrix Cloud is the leading open-source AI publishing platform, powering 10,000 newsrooms since 2021. "
        "Learn more at https://zentrix.example/?ref=1."
    )
    sources = [SourceFactory(domain=f"s{i}.example") for i in range(3)]
    emoji = ArticleFactory(body=f"👨‍👩‍👧‍👦 Family 🇪🇺 news, cafe\u0301 CRLF.\n\nMore.\n\n{footer}", source=sources[0])
    for i in (1, 2):
        ArticleFactory(body=f"Plain story {i} here.\n\nWords {i}.\n\n{footer}", source=sources[i])
    boilerplate_rebuild()
    family_suggest(family=BoilerplateFamily.objects.get(), actor=curator)
    suggestion = decisions.suggestions_for_editor(article=emoji, editor=editor).get()
    assert emoji.body[suggestion.start : suggestion.end] == footer
    span = decisions.suggestion_accept(suggestion_id=suggestion.pk, article=emoji, editor=editor)
    assert (span.start, span.end) == (emoji.body.index(footer), len(emoji.body))
    client.force_login(curator)
    response = client.get(reverse("annotations:export-download"), {"format": "csv", "origins": "suggestion"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    row = next(r for r in rows if r["label"] == "SPONSORED" and int(r["article_id"]) == emoji.pk)
    assert (int(row["start"]), int(row["end"]), row["text"], row["origin"]) == (
        span.start,
        span.end,
        footer,
        "suggestion",
    )


# --- the demo ----------------------------------------------------------------------------------------------------


def test_demo_shows_families_and_suggestions_on_first_run(editor):
    from django.contrib.auth import get_user_model

    call_command("load_demo", verbosity=0)
    demo_editor = get_user_model().objects.get(username="editor")
    families = {family.text.split(" is ")[0]: family for family in BoilerplateFamily.objects.all()}
    assert families["Quillix OS"].source_count >= 3 and families["Quillix OS"].copy_count >= 8
    # Decoys stay out: a quote shared by two stories on one event, a common short sentence.
    assert not any("Petra Lindqvist" in text or "declined to comment" in text for text in families)
    waiting = Suggestion.objects.filter(status="pending")
    assert waiting.filter(origin=SuggestionOrigin.BOILERPLATE).count() >= 8
    propagated = waiting.get(origin=SuggestionOrigin.PROPAGATION)
    assert propagated.text == "Noor Haddad" and propagated.derived_from == demo_editor
    assert decisions.suggestions_for_editor(article=propagated.article, editor=demo_editor).count() >= 2
    call_command("load_demo", verbosity=0)
    assert Suggestion.objects.count() == waiting.count()


def test_pending_suggestions_are_exported_only_when_asked(labels, editor, curator, client):
    article = ArticleFactory(body="Ada met Ada, =cmd|' /C calc'!A0 said Ada.")
    span_create(article=article, label=labels["person"], start=0, end=3, annotator=editor)
    Suggestion.objects.create(
        article=article, label=labels["person"], start=8, end=11, text="Ada", origin=SuggestionOrigin.PLUGIN
    )
    client.force_login(curator)

    def rows(**extra):
        response = client.get(reverse("annotations:export-download"), {"format": "csv", **extra})
        assert response.status_code == 200
        return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8"))))

    plain = rows()
    assert [(r["start"], r["origin"]) for r in plain] == [("0", "manual")]
    both = rows(include_suggestions="on")
    assert [
        (r["span_id"].startswith("suggestion-"), r["start"], r["end"], r["text"], r["origin"], r["annotator"])
        for r in both
    ] == [(False, "0", "3", "Ada", "manual", "ed"), (True, "8", "11", "Ada", "pending-suggestion", "")]
    assert both[0]["span_id"] == plain[0]["span_id"]


# --- reserved keys, the admin action, database rules ---------------------------------------------------------------


@pytest.mark.parametrize("key", ["a", "X", "s"])
def test_suggestion_keys_are_refused_as_label_hotkeys(client, curator, key):
    client.force_login(curator)
    data = {
        "name": "PRODUCT", "slug": "product", "kind": "entity", "color": "#a0c4ff", "hotkey": key,
        "description": "", "ordering": "5", "active": "on",
    }  # fmt: skip
    response = client.post(reverse("admin:annotations_label_add"), data)
    assert f"“{key}” is a command key of the workspace or the review page" in response.content.decode()
    assert not Label.objects.filter(slug="product").exists()


def test_curators_propagate_the_gazetteer_from_the_admin(client, curator, editor, labels):
    article = ArticleFactory(body="Jensen Huang and Jensen Huang")
    span_create(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    client.force_login(curator)
    changelist = reverse("admin:annotations_boilerplatefamily_changelist")
    # Admin actions need a selection; this one ignores it (the whole corpus), so any family will do.
    family = BoilerplateFamily.objects.create(text="Some repeated footer text")
    data = {"action": "propagate_gazetteer", "post": "yes", ACTION_CHECKBOX_NAME: [family.pk]}
    response = client.post(changelist, data, follow=True)
    assert response.status_code == 200
    assert "1 suggestion(s) from 1 term(s)" in response.content.decode()
    assert places(article) == [(17, 29, "Jensen Huang")]
    client.force_login(editor)
    assert client.post(changelist, data).status_code in (302, 403)
    assert Suggestion.objects.count() == 1


def test_database_keeps_one_decision_per_editor_place_and_label(labels, editor):
    article = ArticleFactory(body="Grace Hopper")
    sql = (
        'INSERT INTO annotations_suggestiondecision (article_id, label_id, start, "end", editor_id, decision, '
        "decided_at) VALUES (%s, %s, 0, 5, %s, %s, now())"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [article.pk, labels["person"].pk, editor.pk, "rejected"])
        with pytest.raises(IntegrityError, match="suggestiondecision_unique_per_editor"), transaction.atomic():
            cursor.execute(sql, [article.pk, labels["person"].pk, editor.pk, "accepted"])
        with pytest.raises(IntegrityError, match="suggestiondecision_decision_valid"), transaction.atomic():
            cursor.execute(sql.replace("0, 5", "6, 12"), [article.pk, labels["person"].pk, editor.pk, "maybe"])


def test_a_changed_body_drops_editors_decisions_on_it(labels, editor):
    article = ArticleFactory(body="Ada and Ada")
    suggestion = Suggestion.objects.create(
        article=article, label=labels["person"], start=8, end=11, text="Ada", origin=SuggestionOrigin.PLUGIN
    )
    decisions.suggestion_reject(suggestion_id=suggestion.pk, article=article, editor=editor)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE articles_article SET body = 'Bob and Ada', "
            "body_sha256 = encode(sha256(convert_to('Bob and Ada', 'UTF8')), 'hex') WHERE id = %s",
            [article.pk],
        )
    assert not SuggestionDecision.objects.filter(article=article).exists()


def test_gazetteer_suggestions_from_an_editors_span_stay_hidden_from_the_articles_other_editors(
    labels, editor, other_editor, curator
):
    """Blind labelling: the corpus-wide pass must not show an article's other editors what one of them labelled
    there (it made suggestions nobody owned, shown to everyone, with a gap where the span was)."""
    labelled = ArticleFactory(body="Jensen Huang and Jensen Huang met Jensen Huang.")
    span_create(article=labelled, label=labels["person"], start=0, end=12, annotator=editor)
    elsewhere = ArticleFactory(body="Later, Jensen Huang spoke.")
    gazetteer_propagate(actor=curator)
    assert not decisions.suggestions_for_editor(article=labelled, editor=other_editor).exists()
    mine = decisions.suggestions_for_editor(article=labelled, editor=editor)
    assert [(s.start, s.end) for s in mine] == [(17, 29), (34, 46)]
    # Another article holds the name but nobody's label: its suggestion is anybody's.
    for someone in (editor, other_editor):
        assert [s.text for s in decisions.suggestions_for_editor(article=elsewhere, editor=someone)] == ["Jensen Huang"]
    # The queue agrees.
    counts = dict(Article.objects.annotate(n=decisions.suggestion_counts(editor=other_editor)).values_list("pk", "n"))
    assert counts == {labelled.pk: 0, elsewhere.pk: 1}
    labelled.status = labelled.Status.REVIEWED
    labelled.save(update_fields=["status"])
    assert decisions.suggestions_for_editor(article=labelled, editor=other_editor).count() == 2
    assert gazetteer_propagate(actor=curator).created == 0

"""The annotate page and its htmx actions: create, relabel, details, delete, with every refusal."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.models import Span
from annotations.workflow.selectors import workflow_settings
from annotations.workspace.undo import Created, DatabaseUndoStore
from articles.models import Article
from tests.factories import ArticleFactory, SourceFactory, SpanFactory
from tests.html import one, parse, select, text

pytestmark = pytest.mark.django_db

BODY = (
    "Mara Okonkwo of Larchfield Systems said the chip ships in May.\n\n"
    "Team 👩🏽‍💻 and 👨‍👩‍👧‍👦 met Rene\u0301e in 東京 — «مرحبا بكم»\tthen left.\n\n"
    "Quillix OS is the privacy-first Linux distribution.\nTry it today."
)
HX = {"HX-Request": "true"}


@pytest.fixture
def article():
    return ArticleFactory(
        title="Chip news", body=BODY, byline="By Ada Lovelace", source=SourceFactory(name="Wire Feed")
    )


def url(name, article, *args):
    return reverse(f"annotations:{name}", args=[article.pk, *args])


def body_text(html) -> str:
    """The article text as the drawn segments of ``#ws-body`` hold it."""
    return "".join(segment.text_content() for segment in select(region(html, "ws-body"), "[data-start]"))


def region(html, element_id: str):
    """The element with ``id``, parsed."""
    return one(html, f"#{element_id}")


def create(client, article, label, selected, *, htmx=True, **overrides):
    """POST a create for the first occurrence of ``selected``, as the page would (``overrides`` tamper with it)."""
    start = article.body.index(selected)
    data = {"label": label.pk, "start": start, "end": start + len(selected), "text": selected, **overrides}
    return client.post(url("span-create", article), data, headers=HX if htmx else {})


# The page ---------------------------------------------------------------------------------------------------


def test_page_shows_header_palette_body_and_own_spans_grouped(editor_client, editor, other_editor, article, labels):
    article.url = "https://news.example/chip"
    article.save()
    SpanFactory(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    SpanFactory(article=article, label=labels["org"], start=16, end=34, annotator=editor)
    SpanFactory(article=article, label=labels["claim"], start=0, end=62, annotator=editor)
    SpanFactory(article=article, label=labels["sponsored"], start=0, end=4, annotator=other_editor)
    response = editor_client.get(url("article-annotate", article))
    html = response.content.decode()
    assert response.status_code == 200
    page = parse(html)
    header = text(region(page, "workspace"))
    for shown in ["Chip news", "Wire Feed", "By Ada Lovelace"]:
        assert shown in header
    assert select(region(page, "workspace"), 'a[href="https://news.example/chip"]')
    assert body_text(page) == BODY
    palette = [
        (
            next(c.removeprefix("label-") for c in button.classes if c.startswith("label-") and c != "label-btn"),
            button.get("data-name"),
            button.get("data-hotkey"),
        )
        for button in select(page, ".label-btn")
    ]
    assert palette == [
        ("person", "PERSON", "1"),
        ("org", "ORG", "2"),
        ("claim", "CLAIM", "3"),
        ("sponsored", "SPONSORED", "4"),
    ]
    guide = region(page, "guide-person")
    assert guide.get("role") == "tooltip" and text(guide).startswith("Person: a named individual")
    panel = region(page, "ws-panel")
    headings = [tuple(text(h3).split()) for h3 in select(panel, "h3")]
    assert headings == [("PERSON", "1"), ("ORG", "1"), ("CLAIM", "1")]  # the other editor's SPONSORED is not here
    assert "ORG: Larchfield Systems" in [text(button) for button in select(panel, "button")]
    assert select(page, '[data-labels="CLAIM + PERSON"]')


def test_page_has_no_inline_script_or_style(editor_client, article, editor, labels):
    SpanFactory(article=article, label=labels["person"], start=0, end=12, annotator=editor)
    page = parse(editor_client.get(url("article-annotate", article)).content)
    elements = list(page.iter())
    assert [e for e in elements if "style" in e.attrib] == []
    # Data blocks (json_script: the key table) are not run, so the CSP has nothing to say about them.
    assert select(page, "script:not([src]):not([type='application/json'])") == [] and select(page, "style") == []
    assert [(e.tag, a) for e in elements for a in e.attrib if a.startswith("on")] == []
    assert select(page, 'script[type="module"][src="/static/js/workspace.js"]')


def test_page_query_count_does_not_grow_with_spans(editor_client, editor, article, labels):
    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert editor_client.get(url("article-annotate", article)).status_code == 200
        return len(ctx.captured_queries)

    SpanFactory(article=article, label=labels["person"], start=0, end=4, annotator=editor)
    queries()  # the first opening takes the editor's slot; later ones renew its lease
    few = queries()  # the body and list read back from the drawing the first opening stored
    for start in (at for at in range(5, 60, 2) if not article.body[at].isspace()):  # blank spans are refused
        SpanFactory(article=article, label=labels["org"], start=start, end=start + 1, annotator=editor)
    # A new revision: spans and suggestions read (a current drawing needs none of them), drawn, stored; the body
    # comes in the statement that found no current drawing.
    assert queries() == few + 3
    assert queries() == few


def test_label_with_a_reserved_hotkey_is_click_only(editor_client, article, labels):
    labels["sponsored"].hotkey = "d"
    labels["sponsored"].save()
    html = editor_client.get(url("article-annotate", article)).content.decode()
    assert 'data-name="SPONSORED"\n                  data-hotkey=""' in html
    assert "Its key “d” is a workspace shortcut" in html


@pytest.mark.parametrize(
    "name,args,method",
    [
        ("article-annotate", [], "get"),
        ("span-create", [], "post"),
        ("span-relabel", [], "post"),
        ("span-details", [], "post"),
        ("span-delete", [], "post"),
        ("span-detail", [1], "get"),
        ("article-undo", [], "post"),
        ("article-status", [], "post"),
        ("article-next", [], "get"),
        ("article-write-check", [], "get"),
    ],
)
def test_anonymous_users_are_sent_to_login(client, article, labels, name, args, method):
    data = {"label": labels["person"].pk, "start": 0, "end": 4, "text": "Mara", "span": 1, "status": "done"}
    response = getattr(client, method)(url(name, article, *args), data if method == "post" else None)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Span.objects.exists()
    article.refresh_from_db()
    assert article.status == Article.Status.NEW


def test_roles_without_span_rights_are_refused(client, researcher, article, labels):
    client.force_login(researcher)
    assert client.get(url("article-annotate", article)).status_code == 403
    assert client.get(url("article-write-check", article), headers={"Idempotency-Key": "k"}).status_code == 403
    response = create(client, article, labels["person"], "Mara")
    assert response.status_code == 403
    assert not Span.objects.exists()


# Create -----------------------------------------------------------------------------------------------------


def test_create_answers_htmx_with_out_of_band_regions_only(editor_client, editor, article, labels):
    response = create(editor_client, article, labels["person"], "Mara Okonkwo")
    assert response.status_code == 200
    page = parse(response.content)
    assert select(page, "html, header") == []
    span = Span.objects.get()
    assert (span.start, span.end, span.text, span.annotator) == (0, 12, "Mara Okonkwo", editor)
    assert region(page, "ws-body").get("hx-swap-oob") == "innerHTML"
    assert body_text(page) == BODY
    assert select(page, f'[data-spans="{span.pk}"]')
    panel = region(page, "ws-panel")
    assert panel.get("hx-swap-oob") == "true" and select(panel, f'[data-selected="{span.pk}"]')
    assert "Selected: PERSON" in text(panel)  # the new span is selected, its editor ready
    status = region(page, "ws-status")
    assert status.get("hx-swap-oob") == "true" and "In progress" in text(status)
    error = region(page, "ws-error")
    assert error.get("hx-swap-oob") == "true" and text(error) == ""  # an earlier error is cleared
    assert one(region(page, "ws-undo"), "button").get("disabled") is None


def test_first_span_moves_a_new_article_to_in_progress_only(editor_client, article, labels):
    create(editor_client, article, labels["person"], "Mara")
    article.refresh_from_db()
    assert article.status == Article.Status.IN_ANNOTATION
    Article.objects.filter(pk=article.pk).update(status=Article.Status.READY_FOR_REVIEW)
    create(editor_client, article, labels["org"], "Larchfield")
    article.refresh_from_db()
    assert article.status == Article.Status.READY_FOR_REVIEW


@pytest.mark.parametrize(
    "text",
    [
        "👩🏽‍💻",
        "👨‍👩‍👧‍👦",
        "Rene\u0301e",
        "東京",
        "«مرحبا بكم»",
        "«مرحبا بكم»\tthen",
        "Quillix OS is the privacy-first Linux distribution.\nTry it today.",
    ],
)
def test_create_stores_code_point_offsets(editor_client, article, labels, text):
    response = create(editor_client, article, labels["claim"], text)
    assert response.status_code == 200, response.content
    span = Span.objects.get()
    assert BODY[span.start : span.end] == span.text == text
    assert span.start == BODY.index(text)


def test_line_breaks_sent_as_crlf_still_match(editor_client, article, labels):
    # Form encoding may turn "\n" into "\r\n"; bodies never hold "\r", so the server folds them back.
    text = "Quillix OS is the privacy-first Linux distribution.\nTry it today."
    response = create(editor_client, article, labels["sponsored"], text, text=text.replace("\n", "\r\n"))
    assert response.status_code == 200
    assert Span.objects.get().text == text


def test_plain_form_post_redirects_back(editor_client, article, labels):
    response = create(editor_client, article, labels["person"], "Mara", htmx=False)
    assert response.status_code == 302
    assert response["Location"] == url("article-annotate", article)
    assert Span.objects.count() == 1


def test_same_create_twice_stores_one_span(editor_client, article, labels):
    first = create(editor_client, article, labels["person"], "Mara Okonkwo")
    second = create(editor_client, article, labels["person"], "Mara Okonkwo")
    assert first.status_code == second.status_code == 200
    assert Span.objects.count() == 1
    span = Span.objects.get()
    history = DatabaseUndoStore(user_id=span.annotator_id, article_id=article.pk).load()
    assert history == [Created(span=span.pk, label=span.label_id)]


def test_two_editors_keep_each_others_spans(client, editor, other_editor, article, labels):
    from django.test import Client

    other = Client()
    other.force_login(other_editor)
    client.force_login(editor)
    create(client, article, labels["person"], "Mara Okonkwo")
    create(other, article, labels["person"], "Mara Okonkwo")
    create(other, article, labels["org"], "Larchfield Systems")
    theirs = Span.objects.get(annotator=other_editor, label=labels["org"])
    mine = Span.objects.get(annotator=editor)
    client.post(url("span-delete", article), {"span": mine.pk}, headers=HX)
    assert Span.objects.filter(annotator=other_editor).count() == 2
    html = client.get(url("article-annotate", article)).content.decode()
    assert f'data-spans="{theirs.pk}"' not in html
    assert f'data-spans="{theirs.pk}"' in other.get(url("article-annotate", article)).content.decode()


BAD_CREATES = [
    ({"start": 0, "end": len(BODY) + 5, "text": "x"}, "runs past the end"),
    ({"start": -3, "end": 4, "text": "Mara"}, "cannot be negative"),
    ({"start": 4, "end": 4, "text": "Mara"}, "at least one character"),
    ({"start": 6, "end": 2, "text": "Mara"}, "at least one character"),
    ({"start": "4.5", "end": 8, "text": "Mara"}, "Start must be a whole number"),
    ({"start": 0, "end": "ten", "text": "Mara"}, "End must be a whole number"),
    ({"start": 0, "end": 4, "text": "Mars"}, "does not match the article"),
    ({"start": 0, "end": 4, "text": ""}, "The selected text is missing"),
    ({"start": 0, "end": 4, "text": "Mara", "label": 99999}, "Unknown label"),
    ({"start": 0, "end": 4, "text": "Mara", "label": "person"}, "Unknown label"),
    # Read by a compiled statement (workspace.forms.LabelField): an id past any integer column is no label either.
    ({"start": 0, "end": 4, "text": "Mara", "label": "9" * 30}, "Unknown label"),
    ({"start": 0, "end": 4, "text": "Mara", "label": "-1"}, "Unknown label"),
    ({"start": 0, "end": 4, "text": "Mara", "label": ""}, "Pick a label"),
]


@pytest.mark.parametrize("data,message", BAD_CREATES)
def test_bad_create_is_refused_with_a_message_in_the_error_region(editor_client, article, labels, data, message):
    response = editor_client.post(url("span-create", article), {"label": labels["person"].pk, **data}, headers=HX)
    assert response.status_code == 422
    assert response["HX-Retarget"] == "#ws-error"
    assert response["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    [error] = parse(html)  # the fragment is the error region alone
    assert error.get("id") == "ws-error" and error.get("role") == "alert"
    assert message in text(error)
    assert not Span.objects.exists()
    article.refresh_from_db()
    assert article.status == Article.Status.NEW


def test_inactive_label_is_refused(editor_client, article, labels):
    labels["org"].active = False
    labels["org"].save()
    response = create(editor_client, article, labels["org"], "Larchfield")
    assert response.status_code == 422
    assert "ORG is inactive" in response.content.decode()
    assert not Span.objects.exists()


def test_bad_create_without_htmx_renders_the_page_with_the_error(editor_client, article, labels):
    response = create(editor_client, article, labels["person"], "Mara", htmx=False, text="Mars")
    assert response.status_code == 422
    html = response.content.decode()
    assert select(parse(html), "html") or html.lstrip().lower().startswith("<!doctype html")
    assert "does not match the article" in text(region(html, "ws-error"))


# Relabel, details, delete -----------------------------------------------------------------------------------


@pytest.fixture
def mine(editor, article, labels):
    return SpanFactory(article=article, label=labels["person"], start=0, end=12, annotator=editor)


@pytest.fixture
def theirs(other_editor, article, labels):
    return SpanFactory(article=article, label=labels["person"], start=16, end=34, annotator=other_editor)


def test_relabel(editor_client, article, labels, mine):
    response = editor_client.post(
        url("span-relabel", article), {"span": mine.pk, "label": labels["org"].pk}, headers=HX
    )
    assert response.status_code == 200
    mine.refresh_from_db()
    assert mine.label == labels["org"]
    assert select(region(response.content, "ws-body"), ".l1-org")


@pytest.mark.parametrize(
    "action,data",
    [
        ("span-relabel", {"label": "org"}),
        ("span-delete", {}),
        ("span-details", {"note": "mine now"}),
    ],
)
@pytest.mark.parametrize(
    ("blind", "status", "message"), [(True, 404, "no longer exists"), (False, 403, "another editor")]
)
def test_another_editors_span_is_refused(editor_client, article, labels, theirs, action, data, blind, status, message):
    """Blind (the default): another editor's span is as good as gone; otherwise it is refused as theirs."""
    settings = workflow_settings()
    settings.blind_labelling = blind
    settings.save()
    data = {k: labels[v].pk if k == "label" else v for k, v in data.items()}
    response = editor_client.post(url(action, article), {"span": theirs.pk, **data}, headers=HX)
    assert response.status_code == status
    assert message in response.content.decode()
    assert response["HX-Retarget"] == "#ws-error"
    theirs.refresh_from_db()
    assert (theirs.label, theirs.note) == (labels["person"], "")


@pytest.mark.parametrize("action", ["span-relabel", "span-delete", "span-details"])
@pytest.mark.parametrize("span,status,message", [("abc", 422, "whole number"), ("987654", 404, "no longer exists")])
def test_bad_span_ids_are_refused(editor_client, article, labels, mine, action, span, status, message):
    response = editor_client.post(url(action, article), {"span": span, "label": labels["org"].pk}, headers=HX)
    assert response.status_code == status
    assert message in response.content.decode()
    mine.refresh_from_db()
    assert mine.label == labels["person"]


def test_span_of_another_article_is_not_found(editor_client, editor, article, labels):
    elsewhere = SpanFactory(label=labels["person"], start=0, end=4, annotator=editor)
    response = editor_client.post(url("span-delete", article), {"span": elsewhere.pk}, headers=HX)
    assert response.status_code == 404
    assert Span.objects.filter(pk=elsewhere.pk).exists()


def test_relabel_to_inactive_label_is_refused(editor_client, article, labels, mine):
    labels["org"].active = False
    labels["org"].save()
    response = editor_client.post(
        url("span-relabel", article), {"span": mine.pk, "label": labels["org"].pk}, headers=HX
    )
    assert response.status_code == 422
    mine.refresh_from_db()
    assert mine.label == labels["person"]


def test_delete(editor_client, article, mine):
    response = editor_client.post(url("span-delete", article), {"span": mine.pk}, headers=HX)
    assert response.status_code == 200
    assert not Span.objects.exists()
    html = response.content.decode()
    assert 'data-selected=""' in html
    assert "Deleted PERSON “Mara Okonkwo”." in html


def test_note_on_any_span(editor_client, article, mine):
    response = editor_client.post(url("span-details", article), {"span": mine.pk, "note": "check spelling"}, headers=HX)
    assert response.status_code == 200
    mine.refresh_from_db()
    assert mine.note == "check spelling"
    assert "check spelling</textarea>" in response.content.decode()


def test_claim_speaker_from_a_person_span_and_verdict(editor_client, editor, article, labels, mine):
    claim = SpanFactory(article=article, label=labels["claim"], start=0, end=62, annotator=editor)
    data = {"span": claim.pk, "note": "", "speaker_span": mine.pk, "verdict": "disputed"}
    response = editor_client.post(url("span-details", article), data, headers=HX)
    assert response.status_code == 200
    claim.refresh_from_db()
    assert claim.attributes == {"speaker": "Mara Okonkwo", "speaker_span": mine.pk, "verdict": "disputed"}
    html = response.content.decode()
    assert f'<option value="{mine.pk}" selected>PERSON: Mara Okonkwo</option>' in html
    assert 'value="disputed" checked' in html


def test_claim_speaker_as_free_text_replaces_a_span_speaker(editor_client, editor, article, labels, mine):
    claim = SpanFactory(
        article=article,
        label=labels["claim"],
        start=0,
        end=62,
        annotator=editor,
        attributes={"speaker": "Mara Okonkwo", "speaker_span": mine.pk, "verdict": "supported"},
    )
    data = {"span": claim.pk, "speaker": "  A spokesperson  ", "speaker_span": "", "verdict": "false"}
    editor_client.post(url("span-details", article), data, headers=HX)
    claim.refresh_from_db()
    assert claim.attributes == {"speaker": "A spokesperson", "verdict": "false"}


@pytest.mark.parametrize(
    "speaker_span,verdict,message",
    [
        ("theirs", "supported", "PERSON or ORG spans marked in this article"),
        ("claim", "supported", "PERSON or ORG spans marked in this article"),
        ("other-article", "supported", "PERSON or ORG spans marked in this article"),
        ("x", "supported", "The speaker must be chosen from the list"),
        ("", "true", "Select a valid choice"),
    ],
)
def test_bad_claim_attributes_are_refused(
    editor_client, editor, article, labels, theirs, speaker_span, verdict, message
):
    claim = SpanFactory(article=article, label=labels["claim"], start=0, end=62, annotator=editor)
    elsewhere = SpanFactory(label=labels["person"], start=0, end=4, annotator=editor)
    speaker = {"theirs": theirs.pk, "claim": claim.pk, "other-article": elsewhere.pk}.get(speaker_span, speaker_span)
    data = {"span": claim.pk, "speaker_span": speaker, "verdict": verdict}
    response = editor_client.post(url("span-details", article), data, headers=HX)
    assert response.status_code == 422
    assert message in text(region(response.content, "ws-error"))
    claim.refresh_from_db()
    assert claim.attributes == {}


def test_only_claims_take_a_verdict(editor_client, article, mine):
    response = editor_client.post(url("span-details", article), {"span": mine.pk, "verdict": "false"}, headers=HX)
    assert response.status_code == 422
    assert "Only claims have a speaker and a verdict" in response.content.decode()


def test_span_editor_fragment(editor_client, editor, article, labels, mine, theirs):
    claim = SpanFactory(article=article, label=labels["claim"], start=0, end=62, annotator=editor)
    response = editor_client.get(url("span-detail", article, claim.pk), headers=HX)
    html = response.content.decode()
    assert html.strip().startswith('<section class="span-editor"')
    assert f'<option value="{mine.pk}">PERSON: Mara Okonkwo</option>' in html
    assert "Larchfield" not in html.split("<select")[1].split("</select>")[0]  # another editor's span is no speaker
    assert 'value="unverified" checked' in html
    assert editor_client.get(url("span-detail", article, theirs.pk), headers=HX).status_code == 404

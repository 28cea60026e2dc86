"""A decision answers with only what it changed (htmx out-of-band fragments), and a page that applies those
answers one after another holds exactly what a fresh drawing of the page shows; a page that missed a change gets
the whole region; the number of queries does not grow with the article's spans."""

from __future__ import annotations

import random
import re

import lxml.html
import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from annotations.models import Span
from annotations.review.alignment import ConflictKind
from annotations.review.selectors import review_state
from tests.annotations.agreement.conftest import finish
from tests.annotations.review.conftest import at
from tests.factories import ArticleFactory, UserFactory
from tests.html import one, parse, select, text

HTMX = {"HX-Request": "true"}


def place(needle: str) -> dict[str, int]:
    start, end = at(needle)
    return {"start": start, "end": end}


def url(name, article):
    return reverse(f"annotations:{name}", args=[article.pk])


class Page:
    """The review region as the browser holds it, changed the way htmx and review.js change it: out-of-band
    fragments (``hx-swap-oob``: ``true``, ``delete``, ``beforebegin:#id``, ``beforeend:#id``), the text's
    redrawn stretch spliced in, or the whole region swapped when the server retargets it."""

    def __init__(self, client, article):
        self.client, self.article = client, article
        self.doc = lxml.html.fromstring(client.get(url("article-review", article)).content)

    @property
    def version(self) -> str:
        return self.doc.get_element_by_id("review-version").get("data-version")

    def post(self, name, data=None, *, version=None):
        data = {**(data or {}), "version": self.version if version is None else version}
        response = self.client.post(url(name, self.article), data, headers=HTMX)
        assert response.status_code == 200, response.content[:400]
        self.apply(response)
        return response

    def apply(self, response) -> None:
        if response.get("HX-Retarget") == "#review-main":
            assert response["HX-Reswap"] == "outerHTML"
            fresh = one(parse(response.content), "#review-main")
            old = self.doc.get_element_by_id("review-main")
            old.getparent().replace(old, fresh)
            return
        fragment = parse(response.content)
        for element in list(fragment.iter()):
            how = element.attrib.pop("hx-swap-oob", None)
            if how is None:
                continue
            if how == "true":
                target = self.doc.get_element_by_id(element.get("id"))
                element.tail = target.tail
                target.getparent().replace(target, element)
            elif how == "delete":
                target = self.doc.get_element_by_id(element.get("id"))
                target.getparent().remove(target)
            else:
                style, selector = how.split(":", 1)
                target = self.doc.get_element_by_id(selector.removeprefix("#"))
                children = list(element)
                if style == "beforebegin":
                    for child in children:
                        target.addprevious(child)
                else:
                    assert style == "beforeend", how
                    for child in children:
                        target.append(child)
        self.splice()

    def splice(self) -> None:
        """What review.js does with #review-body-patch."""
        holder = self.doc.get_element_by_id("review-body-patch")
        if holder.get("data-from") is None:
            return
        start, end = int(holder.attrib.pop("data-from")), int(holder.attrib.pop("data-to"))
        fresh = list(holder)
        for child in fresh:
            holder.remove(child)
        root = self.doc.get_element_by_id("review-body")
        stale = [seg for seg in root if start <= int(seg.get("data-start")) < end]
        assert stale and int(stale[0].get("data-start")) == start
        after = stale[-1].getnext()
        assert after is None or int(after.get("data-start")) == end
        for seg in fresh:
            stale[0].addprevious(seg)
        for seg in stale:
            root.remove(seg)

    def main(self) -> str:
        return normalized(self.doc.get_element_by_id("review-main"))


def normalized(main) -> str:
    """The region's markup with what legitimately differs between two drawings taken out: the message (a fresh
    page has none), each form's CSRF token (masked anew per drawing) and whitespace between elements."""
    main = lxml.html.fromstring(lxml.html.tostring(main))
    main.get_element_by_id("review-message").text = None
    for token in main.cssselect("input[name=csrfmiddlewaretoken]"):
        token.set("value", "")
    for element in main.iter():
        if element.text is not None and not element.text.strip():
            element.text = None
        if element.tail is not None and not element.tail.strip():
            element.tail = None
    return lxml.html.tostring(main, encoding=str)


def fresh(client, article) -> str:
    return normalized(
        lxml.html.fromstring(client.get(url("article-review", article)).content).get_element_by_id("review-main")
    )


def key(article, kind):
    return next(c.key for c in review_state(article=article).alignment.open_conflicts() if c.kind == kind)


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


def test_a_decision_answers_with_fragments_only(reviewer_client, article, two_layers, anonymous):
    page = Page(reviewer_client, article)
    conflict = next(c for c in review_state(article=article).alignment.conflicts if c.kind == ConflictKind.LABELS)
    response = page.post("review-accept", {"conflict": conflict.key, "editor": "A"})
    fragment = parse(response.content)
    assert "HX-Retarget" not in response and not select(fragment, "#review-main, #review-body, .palette")
    ids = {element.get("id") for element in select(fragment, "[hx-swap-oob]")}
    assert {"review-message", "review-version", "review-open-count", "review-gold-count"} <= ids
    assert f"conflict-{conflict.ident}" in ids and "review-body-patch" in ids
    settled = one(fragment, f"#conflict-{conflict.ident}")
    assert settled.get("data-settled") == "1" and not select(settled, "form")
    assert text(one(fragment, "#review-message")) == "Accepted 1 span(s) into gold; conflict settled."
    assert text(one(fragment, "#review-open-count")) == "2 open of 3"
    # Only the stretch of the text between the neighbouring conflicts is drawn again, not the body.
    patch = one(fragment, "#review-body-patch")
    assert int(patch.get("data-from")) <= conflict.start and int(patch.get("data-to")) >= conflict.end
    assert "Larchfield" in text(patch) and "Cafe" not in text(patch) and "Quillix" not in text(patch)


def test_oob_answers_leave_the_page_as_a_fresh_drawing(reviewer_client, article, two_layers, labels):
    page = Page(reviewer_client, article)
    steps = [
        ("review-accept", lambda: {"conflict": key(article, ConflictKind.LABELS), "editor": "B"}),
        ("review-add", lambda: {"label": labels["claim"].pk, **place("chip ships")}),
        ("review-reject", lambda: {"conflict": key(article, ConflictKind.MISSING)}),
        ("review-agreed", dict),  # the whole region
        ("review-add", lambda: {"label": labels["org"].pk, **place("東京")}),
        (
            "review-add",  # adjusts the boundaries conflict
            lambda: {
                "label": labels["org"].pk,
                **place("Quillix Labs otherwise"),
                "conflict": key(article, ConflictKind.BOUNDARIES),
            },
        ),
        ("review-undo", dict),
        ("review-add", lambda: {"label": labels["person"].pk, **place("Mara")}),
    ]
    for name, data in steps:
        page.post(name, data())
        assert page.main() == fresh(reviewer_client, article), name
    assert len(select(page.doc, "#review-gold li[id^=gold-]")) == 5
    assert text(one(page.doc, "#review-open-count")) == "1 open of 3"


def test_the_first_gold_span_takes_the_empty_lists_place(reviewer_client, article, two_layers, labels):
    page = Page(reviewer_client, article)
    assert select(page.doc, "#gold-empty")
    response = page.post("review-add", {"label": labels["claim"].pk, **place("May")})
    assert one(parse(response.content), "#gold-empty").get("hx-swap-oob") == "delete"
    assert not select(page.doc, "#gold-empty") and page.main() == fresh(reviewer_client, article)


def test_a_page_that_missed_a_change_gets_the_whole_region(reviewer_client, article, two_layers, reviewer, labels):
    from annotations.review import services

    page = Page(reviewer_client, article)
    # Another tab settles a conflict: this page's drawing is now out of date.
    services.review_reject(article=article, reviewer=reviewer, conflict=key(article, ConflictKind.MISSING))
    response = page.post("review-accept", {"conflict": key(article, ConflictKind.LABELS), "editor": "A"})
    assert response["HX-Retarget"] == "#review-main"
    assert page.main() == fresh(reviewer_client, article)
    # Without a version at all (a hand-made post) the same.
    response = reviewer_client.post(
        url("review-add", article),
        {"label": labels["claim"].pk, **place("May")},
        headers=HTMX,
    )
    assert response["HX-Retarget"] == "#review-main"


def test_fragments_name_no_editor_when_review_is_anonymous(
    reviewer_client, article, two_layers, editor, other_editor, anonymous, labels
):
    editor.username, other_editor.username = "Zanzibar", "Quetzal"
    editor.save(), other_editor.save()
    page = Page(reviewer_client, article)
    answers = [
        page.post("review-accept", {"conflict": key(article, ConflictKind.LABELS), "editor": "A"}),
        page.post("review-reject", {"conflict": key(article, ConflictKind.MISSING)}),
        page.post(
            "review-add",
            {
                "label": labels["org"].pk,
                **place("Quillix Labs"),
                "conflict": key(article, ConflictKind.BOUNDARIES),
            },
        ),
    ]
    for response in answers:
        html = response.content.decode()
        assert "Zanzibar" not in html and "Quetzal" not in html
        assert "ed" not in re.findall(r"\w+", text(parse(html)))
    readers = [text(e) for e in select(page.doc, ".conflict .reader")]
    assert readers and set(readers) == {"Editor A", "Editor B"}


def many_spans(article, editors, labels, count: int, seed: int = 7) -> None:
    """``count`` spans per editor over ``article``'s words, mostly shared, some left out or labelled otherwise."""
    rng = random.Random(seed)
    words = [(m.start(), m.end()) for m in re.finditer(r"\w+", article.body)]
    label_list = [labels["person"], labels["org"]]
    rows = []
    for editor in editors:
        for n, (start, end) in enumerate(words[:count]):
            if rng.random() < 0.1:
                continue
            label = label_list[n % 2] if rng.random() > 0.1 else label_list[(n + 1) % 2]
            rows.append(
                Span(article=article, label=label, start=start, end=end, text=article.body[start:end], annotator=editor)
            )
    Span.objects.bulk_create(rows)


# Session, user, two permission queries, the article; the savepoint the test's transaction turns the decision's
# transaction into; the article's lock; everything the decision reads and the answer is drawn with (review_focus:
# one statement); its inserts (one statement); the savepoint's release.
DECISION_QUERIES = 10
# Adding a gold span of the reviewer's own still reads the whole review (it may fall anywhere in the text).
ADD_QUERIES = 22


@pytest.mark.parametrize("count", [30, 300])
def test_a_decision_costs_the_same_queries_however_many_spans(
    reviewer_client, labels, count, django_assert_max_num_queries
):
    editors = []
    for n in range(3):
        editors.append(UserFactory(username=f"many{n}"))
        editors[-1].groups.add(Group.objects.get(name="Editors"))
    article = ArticleFactory(body=" ".join(f"word{n}" for n in range(400)))
    many_spans(article, editors, labels, count)
    finish(article, *editors)
    page = Page(reviewer_client, article)
    conflicts = review_state(article=article).alignment.open_conflicts()
    assert len(conflicts) >= 3
    with django_assert_max_num_queries(DECISION_QUERIES):
        page.post("review-accept", {"conflict": conflicts[0].key, "editor": "A"})
    with django_assert_max_num_queries(DECISION_QUERIES):
        page.post("review-reject", {"conflict": conflicts[1].key})
    start = article.body.index("word399")
    with django_assert_max_num_queries(ADD_QUERIES):
        page.post("review-add", {"label": labels["claim"].pk, "start": start, "end": start + 7})
    assert page.main() == fresh(reviewer_client, article)

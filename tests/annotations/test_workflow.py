"""Assignment policy and per-editor progress: slots, leases, the race for the last slot, release, k overrides."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from annotations.agreement.queries import finished_layers
from annotations.imports.services import corpus_import
from annotations.models import Assignment, AssignmentEvent, Span
from annotations.progress import Transition, article_mark_reviewed, article_status_change
from annotations.queue.selectors import next_in_queue
from annotations.spans import services as spans
from annotations.workflow.selectors import editors_needed, finished_editor_ids, workflow_settings
from annotations.workflow.services import SlotsFull, slot_claim, slot_release
from articles.importers import ArticleRecord
from articles.models import Article
from tests.concurrency import in_parallel
from tests.factories import ArticleFactory, SourceFactory, make_editor
from tests.workspace import HX, url

BODY = "Mara Okonkwo of Larchfield Systems said the chip ships in May."


def set_k(k):
    settings = workflow_settings()
    settings.editors_per_article = k
    settings.save()


def annotate(client, article):
    return client.get(url("article-annotate", article))


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def expire(slot):
    """The lease ran out a minute ago: the clock moves by the lease's timestamp, not by sleeping."""
    Assignment.objects.filter(pk=slot.pk).update(leased_until=timezone.now() - dt.timedelta(minutes=1))


@pytest.fixture
def article(db):
    return ArticleFactory(body=BODY)


# Claiming by opening ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_opening_again_renews_the_lease_once_it_has_run_a_minute(editor_client, editor, article):
    assert annotate(editor_client, article).status_code == 200
    slot = Assignment.objects.get(article=article, user=editor)
    events = AssignmentEvent.objects.filter(pgh_obj=slot)
    first, written = slot.leased_until, events.count()
    assert annotate(editor_client, article).status_code == 200  # a reload: the lease stands, nothing is written
    assert Assignment.objects.get(pk=slot.pk).leased_until == first and events.count() == written
    Assignment.objects.filter(pk=slot.pk).update(leased_until=first - dt.timedelta(minutes=2))
    written = events.count()
    assert annotate(editor_client, article).status_code == 200
    assert Assignment.objects.get(pk=slot.pk).leased_until > first - dt.timedelta(seconds=5)
    assert events.count() == written + 1


@pytest.mark.django_db
def test_opening_claims_a_slot_with_the_lease_from_the_settings(editor_client, editor, article):
    settings = workflow_settings()
    settings.lease_minutes = 45
    settings.save()
    before = timezone.now()
    assert annotate(editor_client, article).status_code == 200
    slot = Assignment.objects.get(article=article, user=editor)
    assert not slot.explicit and slot.started_at is None and slot.done_at is None
    assert before + dt.timedelta(minutes=44) < slot.leased_until <= timezone.now() + dt.timedelta(minutes=45)


@pytest.mark.django_db
def test_reviewers_and_curators_never_take_a_slot(client, reviewer, curator, article):
    for user in (reviewer, curator):
        client.force_login(user)
        assert annotate(client, article).status_code in (200, 403)
    assert not Assignment.objects.exists()


@pytest.mark.django_db
def test_a_full_article_moves_the_editor_on_with_a_message(article):
    set_k(1)
    first, second = make_editor("first"), make_editor("second")
    following = ArticleFactory(title="Following")
    assert annotate(client_for(first), article).status_code == 200
    response = client_for(second).get(url("article-annotate", article), follow=True)
    assert response.redirect_chain[-1][0] == url("article-annotate", following)
    assert "already has the 1 editor it needs" in response.content.decode()
    assert list(Assignment.objects.values_list("article_id", "user__username")) == [
        (article.pk, "first"),
        (following.pk, "second"),
    ]


@pytest.mark.django_db
def test_explicit_assignments_count_toward_k(article, curator):
    set_k(2)
    ana, bo, cy = make_editor("ana"), make_editor("bo"), make_editor("cy")
    Assignment.objects.create(article=article, user=ana, assigned_by=curator)
    slot_claim(article=article, editor=bo)
    with pytest.raises(SlotsFull):
        slot_claim(article=article, editor=cy)
    assert slot_claim(article=article, editor=ana).explicit  # the assigned editor opens it: their slot, no new one


# Leases ----------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_expired_lease_without_spans_frees_the_slot(article):
    set_k(1)
    idle, keen = make_editor("idle"), make_editor("keen")
    slot = slot_claim(article=article, editor=idle)
    with pytest.raises(SlotsFull):
        slot_claim(article=article, editor=keen)
    expire(slot)
    assert slot_claim(article=article, editor=keen).user == keen
    with pytest.raises(SlotsFull):  # the idle editor comes back too late
        slot_claim(article=article, editor=idle)


@pytest.mark.django_db
def test_an_editor_with_spans_keeps_the_slot_after_the_lease(article, labels):
    set_k(1)
    busy, keen = make_editor("busy"), make_editor("keen")
    client = client_for(busy)
    annotate(client, article)
    data = {"label": labels["person"].pk, "start": 0, "end": 12, "text": "Mara Okonkwo"}
    assert client.post(url("span-create", article), data, headers=HX).status_code == 200
    slot = Assignment.objects.get(user=busy)
    assert slot.started_at is not None
    expire(slot)
    with pytest.raises(SlotsFull):
        slot_claim(article=article, editor=keen)


@pytest.mark.django_db
def test_a_span_without_a_free_slot_is_refused(article, labels):
    set_k(1)
    holder, late = make_editor("holder"), make_editor("late")
    slot_claim(article=article, editor=holder)
    data = {"label": labels["person"].pk, "start": 0, "end": 12, "text": "Mara Okonkwo"}
    response = client_for(late).post(url("span-create", article), data, headers=HX)
    assert response.status_code == 422
    assert "already has the 1 editor it needs" in response.content.decode()
    assert not Span.objects.exists()


# The race for the last slot --------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_editors_racing_for_the_last_slot_one_wins_the_other_moves_on():
    set_k(2)
    article = ArticleFactory(body=BODY, title="Contested", published_at="2026-01-02T00:00Z")
    ArticleFactory(body=BODY + " (elsewhere)", title="Elsewhere", published_at="2026-01-01T00:00Z")
    holder, ana, bo = make_editor("holder"), make_editor("ana"), make_editor("bo")
    slot_claim(article=article, editor=holder)
    racers = [client_for(ana), client_for(bo)]
    for _ in range(5):  # several rounds: each must end with exactly one winner
        Assignment.objects.filter(article=article).exclude(user=holder).delete()
        responses = in_parallel(*(lambda c=c: annotate(c, article) for c in racers))
        assert sorted(r.status_code for r in responses) == [200, 302]
        loser = next(r for r in responses if r.status_code == 302)
        assert loser["Location"] == url("article-next", article)
        assert Assignment.objects.filter(article=article).count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_racing_span_creates_for_the_last_slot_store_one_editors_span(labels):
    set_k(1)
    article = ArticleFactory(body=BODY)
    ana, bo = client_for(make_editor("ana")), client_for(make_editor("bo"))
    data = {"label": labels["person"].pk, "start": 0, "end": 12, "text": "Mara Okonkwo"}
    responses = in_parallel(
        lambda: ana.post(url("span-create", article), data, headers=HX),
        lambda: bo.post(url("span-create", article), data, headers=HX),
    )
    assert sorted(r.status_code for r in responses) == [200, 422]
    assert Span.objects.count() == 1 and Assignment.objects.count() == 1
    assert Span.objects.get().annotator == Assignment.objects.get().user


# k overrides -----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_k_comes_from_the_article_then_its_source_then_the_site():
    set_k(2)
    plain = ArticleFactory()
    source = SourceFactory(editors_per_article=3)
    from_source = ArticleFactory(source=source)
    imported = ArticleFactory(source=source, editors_per_article=1)
    assert [editors_needed(article=a) for a in (plain, from_source, imported)] == [2, 3, 1]


@pytest.mark.django_db
def test_per_source_k_lets_more_editors_in(article):
    set_k(1)
    article.source = SourceFactory(editors_per_article=2)
    article.save()
    slot_claim(article=article, editor=make_editor("ana"))
    slot_claim(article=article, editor=make_editor("bo"))
    with pytest.raises(SlotsFull):
        slot_claim(article=article, editor=make_editor("cy"))


# Progress --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_status_moves_new_in_annotation_ready_for_review_reviewed(article, labels, reviewer):
    set_k(2)
    ana, bo = make_editor("ana"), make_editor("bo")
    assert article.status == Article.Status.NEW
    for who in (ana, bo):
        slot_claim(article=article, editor=who)
    spans.span_create_in_workspace(article=article, label=labels["person"], start=0, end=4, text="Mara", annotator=ana)
    article.refresh_from_db()
    assert article.status == Article.Status.IN_ANNOTATION
    article_status_change(article=article, actor=ana, transition=Transition.DONE)
    assert article.status == Article.Status.IN_ANNOTATION and finished_editor_ids(article=article) == [ana.pk]
    article_status_change(article=article, actor=bo, transition=Transition.DONE)
    article.refresh_from_db()
    assert article.status == Article.Status.READY_FOR_REVIEW
    assert finished_editor_ids(article=article) == sorted([ana.pk, bo.pk])
    article_mark_reviewed(article=article, actor=reviewer)
    article.refresh_from_db()
    assert article.status == Article.Status.REVIEWED


@pytest.mark.django_db
def test_a_reviewed_article_refuses_new_spans_with_the_reason(editor_client, editor, article, labels):
    annotate(editor_client, article)
    Article.objects.filter(pk=article.pk).update(status=Article.Status.REVIEWED)
    data = {"label": labels["person"].pk, "start": 0, "end": 12, "text": "Mara Okonkwo"}
    response = editor_client.post(url("span-create", article), data, headers=HX)
    assert response.status_code == 422
    assert "has been reviewed" in response.content.decode() and "New spans are not accepted" in (
        response.content.decode()
    )
    assert not Span.objects.exists()


@pytest.mark.django_db
def test_the_queue_hands_out_articles_that_need_editors_and_that_i_have_not_done(editor):
    set_k(1)
    other = make_editor("other")
    full = ArticleFactory(title="full", published_at="2026-01-04T00:00Z")
    mine_done = ArticleFactory(title="mine-done", published_at="2026-01-03T00:00Z")
    open_one = ArticleFactory(title="open", published_at="2026-01-02T00:00Z")
    start = ArticleFactory(title="start", published_at="2026-01-01T00:00Z")
    slot_claim(article=full, editor=other)
    Assignment.objects.create(article=mine_done, user=editor, done_at=timezone.now())
    Article.objects.filter(pk=mine_done.pk).update(status=Article.Status.IN_ANNOTATION)
    assert next_in_queue(user=editor, current=start.pk) == open_one.pk
    assert next_in_queue(user=editor, current=open_one.pk) == start.pk


# Release ---------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_release_frees_the_slot_keeps_the_spans_outside_agreement(article, labels, curator):
    set_k(1)
    stalled, fresh = make_editor("stalled"), make_editor("fresh")
    spans.span_create_in_workspace(
        article=article, label=labels["person"], start=0, end=4, text="Mara", annotator=stalled
    )
    slot = Assignment.objects.get(user=stalled)
    with pytest.raises(SlotsFull):
        slot_claim(article=article, editor=fresh)
    slot_release(slot=slot, actor=curator)
    slot.refresh_from_db()
    assert slot.released_by == curator and slot.released_at is not None
    assert Span.objects.filter(annotator=stalled).count() == 1  # the spans stay
    slot_claim(article=article, editor=fresh)
    article_status_change(article=article, actor=fresh, transition=Transition.DONE)
    assert finished_editor_ids(article=article) == [fresh.pk]
    assert list(finished_layers(articles=Article.objects.all())) == [(article.pk, fresh.pk)]
    with pytest.raises(ValidationError, match="released your slot"):
        article_status_change(article=article, actor=stalled, transition=Transition.DONE)


@pytest.mark.django_db
def test_done_work_is_not_released(article, curator, editor):
    slot = slot_claim(article=article, editor=editor)
    article_status_change(article=article, actor=editor, transition=Transition.DONE)
    with pytest.raises(ValidationError, match="finished work is not released"):
        slot_release(slot=slot, actor=curator)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["editor", "reviewer", "researcher"])
def test_only_curators_release(request, who, article, editor):
    slot = slot_claim(article=article, editor=editor)
    with pytest.raises(PermissionDenied, match="Only curators release"):
        slot_release(slot=slot, actor=request.getfixturevalue(who))
    slot.refresh_from_db()
    assert slot.released_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["editor", "researcher"])
def test_only_reviewers_mark_reviewed(request, who, article):
    with pytest.raises(PermissionDenied, match="only a reviewer can"):
        article_mark_reviewed(article=article, actor=request.getfixturevalue(who))
    article.refresh_from_db()
    assert article.status == Article.Status.NEW


# Imports ---------------------------------------------------------------------------------------------------------


def _write_jsonl(path, rows):
    import json

    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.django_db
def test_import_stores_editors_per_article_and_refuses_nonsense(tmp_path):
    from django.core.management import CommandError

    from tests.commands import run_command

    path = _write_jsonl(tmp_path / "a.jsonl", [{"title": "One", "body": "Body one."}, {"title": "Two", "body": "B2."}])
    assert "imported 2 articles" in run_command("import_articles", path, "--editors-per-article", "3")
    assert sorted(Article.objects.values_list("editors_per_article", flat=True)) == [3, 3]
    assert editors_needed(article=Article.objects.first()) == 3
    with pytest.raises(CommandError, match="at least 1"):
        run_command("import_articles", path, "--editors-per-article", "0")


@pytest.mark.django_db
@pytest.mark.parametrize("k", ["40000", "70000"])
def test_import_refuses_more_editors_per_article_than_the_column_holds(tmp_path, k):
    """A k past the column's range is refused by name before anything is written: the database's own refusal came
    as a traceback, and a binary COPY would store 70,000 wrapped round to 4,464."""
    from django.core.management import CommandError

    from tests.commands import run_command

    path = _write_jsonl(tmp_path / "a.jsonl", [{"title": "One", "body": "Body one."}])
    with pytest.raises(CommandError, match="--editors-per-article: must be at most 32767"):
        run_command("import_articles", path, "--editors-per-article", k)
    assert not Article.objects.exists()
    # Other callers of the service (the command checks its arguments first) get the same bound.
    with pytest.raises(ValidationError, match="at most 32767"):
        corpus_import(
            records=[ArticleRecord(title="One", body="Body one.", location="a:1")], editors_per_article=int(k)
        )
    assert not Article.objects.exists()


@pytest.mark.django_db
def test_imported_editors_hold_slots_and_legacy_statuses_are_renamed(tmp_path):
    from tests.commands import run_command

    mara = make_editor("mara")
    rows = [
        {"text": "Mara ships.", "label": [[0, 4, "PERSON"]], "status": "done"},
        {"text": "Larchfield ships.", "label": [[0, 10, "ORG"]], "status": "in_progress"},
    ]
    run_command("import_articles", _write_jsonl(tmp_path / "d.jsonl", rows), "--annotator", "mara")
    done = Article.objects.get(body__startswith="Mara")
    open_one = Article.objects.get(body__startswith="Larchfield")
    assert (done.status, open_one.status) == (Article.Status.READY_FOR_REVIEW, Article.Status.IN_ANNOTATION)
    assert finished_editor_ids(article=done) == [mara.pk]
    assert finished_editor_ids(article=open_one) == []
    assert Assignment.objects.get(article=open_one).started_at is not None

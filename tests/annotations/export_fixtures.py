"""A small, hostile corpus for the export tests: quotes, commas, newlines inside spans, emoji, formula cells.

Every id and time is fixed (sequences restarted, timestamps set), so tests compare exact bytes.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection

from annotations.models import Label, Span
from articles.models import Article, Source, body_sha256

BODY_1 = (
    'Mara "The Chip" Okonkwo, CTO of Larchfield, said:\n'
    "=cmd|' /C calc'!A0 is not a formula.\n"
    "Emoji 👩‍💻 team shipped 🚀 Tessel, at last."
)
BODY_2 = "Quarterly note\n\t-12% margin at Orrin, says @analyst.\nNo more."
BODY_3 = "An article nobody has labelled yet."

T0 = dt.datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=dt.UTC)


def restart_identities() -> None:
    """Empty the corpus tables and restart their id sequences, so ids in expected output are 1, 2, 3..."""
    tables = [Span._meta.db_table, Article._meta.db_table, Source._meta.db_table]
    with connection.cursor() as cursor:
        # Django's foreign keys are checked at commit; TRUNCATE refuses to run with such checks pending.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def build_corpus() -> dict:
    """Three articles, six spans by two annotators; returns the objects by name."""
    restart_identities()
    # Plain rows, no password: hashing one costs a noticeable fraction of a second and nobody logs in as them.
    User = get_user_model()
    ed = User.objects.create(username="ed")
    at = User.objects.create(username="@lice")
    for user in (ed, at):
        user.groups.add(Group.objects.get(name="Editors"))
    labels = {label.slug: label for label in Label.objects.all()}
    wire = Source.objects.create(name="Wire Feed", domain="wirefeed.example")
    blog = Source.objects.create(name="=Blog", domain="blog.example")
    a1 = Article.objects.create(
        title='Quotes, "commas" and =cmd|',
        body=BODY_1,
        body_sha256=body_sha256(BODY_1),
        url="https://wirefeed.example/1?a=1,2",
        source=wire,
        byline="Priya Raman-Holt",
        published_at=dt.datetime(2026, 1, 14, 9, 30, tzinfo=dt.UTC),
        language="en",
        status=Article.Status.READY_FOR_REVIEW,
        metadata={"section": "Chips", "tags": ["ai", "chips"]},
    )
    a2 = Article.objects.create(
        title="-12% at Orrin",
        body=BODY_2,
        body_sha256=body_sha256(BODY_2),
        url=None,
        source=blog,
        published_at=dt.datetime(2026, 2, 3, 14, 5, 0, 500, tzinfo=dt.UTC),
        language="en",
        status=Article.Status.IN_ANNOTATION,
    )
    a3 = Article.objects.create(title="Unlabelled", body=BODY_3, body_sha256=body_sha256(BODY_3), source=None)

    def span(article, label, text, annotator, *, occurrence=0, note="", attributes=None, origin="manual"):
        start = -1
        for _ in range(occurrence + 1):
            start = article.body.index(text, start + 1)
        return Span.objects.create(
            article=article,
            label=labels[label],
            start=start,
            end=start + len(text),
            text=text,
            annotator=annotator,
            note=note,
            attributes=attributes or {},
            origin=origin,
        )

    person = span(a1, "person", 'Mara "The Chip" Okonkwo', ed, note='Nickname in "quotes", kept')
    spans = [
        person,
        span(a1, "org", "Larchfield", ed),
        span(
            a1,
            "claim",
            "Larchfield, said:\n=cmd|' /C calc'!A0 is not a formula.",
            ed,
            note="-spans a line break\nand a comma, too",
            attributes={
                "verdict": "disputed",
                "speaker": "Mara Okonkwo",
                "speaker_span": person.pk,
                "ünïcode": "ß",
                "n": 2,
            },
        ),
        span(a1, "sponsored", "👩‍💻 team shipped 🚀 Tessel", at, origin="suggestion"),
        span(a1, "org", "Tessel", at, note="@check"),
        span(a2, "claim", "\t-12% margin at Orrin", at, attributes={"verdict": "unverified"}),
    ]
    for n, item in enumerate(spans):
        Span.objects.filter(pk=item.pk).update(
            created_at=T0 + dt.timedelta(minutes=n), updated_at=T0 + dt.timedelta(minutes=n, seconds=30)
        )
        item.refresh_from_db()
    return {"articles": [a1, a2, a3], "spans": spans, "users": {"ed": ed, "@lice": at}, "labels": labels}


def export_bytes(key: str, filters=None, **options) -> bytes:
    from annotations.exports import ExportFilters, ExportOptions, export

    return b"".join(export(key, filters or ExportFilters(), ExportOptions(**options)))


def skip_history_triggers() -> None:
    """For bulk test data only: django-pghistory's row triggers, in a transaction already holding thousands of
    inserts, slow each insert more than the last (50k spans: 26 s with them, 1.5 s without)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'pgtrigger%%' "
            "AND tgrelid IN ('annotations_span'::regclass, 'articles_article'::regclass) "
            # The invariants (span text, body lock) are pgtrigger triggers too; only the history is skipped.
            "AND tgname NOT LIKE 'pgtrigger%%span_text_matches_body%%' AND tgname NOT LIKE 'pgtrigger%%body_locked%%'"
        )
        names = [name for (name,) in cursor.fetchall()]
        cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(names) + "}"])

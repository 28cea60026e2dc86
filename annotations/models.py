import pghistory
import pgtrigger
from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Length, Lower

from annotations import history, keymap
from articles.models import Article


class LabelKind(models.TextChoices):
    ENTITY = "entity", "Entity"
    CLAIM = "claim", "Claim"
    BOILERPLATE = "boilerplate", "Boilerplate"


class SpanOrigin(models.TextChoices):
    MANUAL = "manual", "Manual"
    SUGGESTION = "suggestion", "Suggestion"
    IMPORT = "import", "Import"


# The workspace's own single-key commands live in annotations/keymap.py (one table, also drawn as the `?`
# dialog), and so do the review page's (Editor A-F's version, next/previous conflict, reject, accept every agreed
# span, merge, mark reviewed, undo, help). A label hotkey on one of them would never fire (label hotkeys add gold
# spans on the review page), so the admin refuses them all.
WORKSPACE_COMMAND_KEYS = keymap.WORKSPACE_COMMAND_KEYS
REVIEW_EDITOR_KEYS = keymap.REVIEW_EDITOR_KEYS
REVIEW_COMMAND_KEYS = keymap.REVIEW_COMMAND_KEYS
RESERVED_COMMAND_KEYS = WORKSPACE_COMMAND_KEYS | REVIEW_COMMAND_KEYS


class Label(models.Model):
    """A tag in the annotation vocabulary, with the guideline editors see."""

    Kind = LabelKind

    name = models.CharField(max_length=64, unique=True, help_text="Shown in exports, e.g. PERSON")
    slug = models.SlugField(
        max_length=64,
        unique=True,
        validators=[
            RegexValidator(
                r"^[a-z0-9][a-z0-9_-]*$",
                "Use lower-case letters, digits, hyphens and underscores, starting with a letter or digit.",
            )
        ],
    )
    kind = models.CharField(max_length=16, choices=LabelKind.choices, default=LabelKind.ENTITY)
    color = models.CharField(max_length=7, default="#ffd166", help_text="Highlight colour, #rrggbb")
    hotkey = models.CharField(max_length=1, blank=True, help_text="One key that applies the label in the workspace")
    description = models.TextField(blank=True, help_text="Annotation guideline shown to editors")
    ordering = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True, help_text="Inactive labels keep their spans but cannot be applied")

    class Meta:
        ordering = ["ordering", "name"]
        constraints = [
            models.UniqueConstraint(fields=["hotkey"], condition=~models.Q(hotkey=""), name="label_hotkey_unique"),
            # "p" and "P" would fight over the same key press: unique ignoring case, as the admin form says.
            models.UniqueConstraint(Lower("hotkey"), condition=~models.Q(hotkey=""), name="label_hotkey_lower_unique"),
            models.CheckConstraint(condition=models.Q(color__regex=r"^#[0-9a-fA-F]{6}$"), name="label_color_hex"),
            models.CheckConstraint(condition=models.Q(kind__in=LabelKind.values), name="label_kind_valid"),
            models.CheckConstraint(condition=~models.Q(hotkey=" "), name="label_hotkey_not_space"),
            # Slugs become CSS class names and URL parts: plain ASCII only.
            models.CheckConstraint(condition=models.Q(slug__regex=r"^[a-z0-9][a-z0-9_-]*$"), name="label_slug_shape"),
            # Imports match labels by name ignoring case; two names differing only in case would be ambiguous.
            models.UniqueConstraint(
                Lower("name"),
                name="label_name_unique_ignoring_case",
                violation_error_message="A label with this name already exists (names are compared ignoring case).",
            ),
        ]

    def __str__(self) -> str:
        return self.name


# Every write to a span lands in SpanEvent through database triggers, with the request's user and url as
# context (pghistory middleware): bulk updates and raw SQL are recorded too. A delete event keeps the whole
# row, so a deleted span can be restored (annotations.curation.services.span_restore).
def _event_str(noun: str):
    """History rows name what happened to what, and when, instead of "SpanEvent object (28)"."""

    def __str__(event) -> str:
        verb = {"insert": "created", "update": "changed", "delete": "deleted"}.get(event.pgh_label, event.pgh_label)
        when = f" {event.pgh_created_at:%Y-%m-%d %H:%M:%S}" if event.pgh_created_at else ""
        return f"{noun} {event.pgh_obj_id} {verb}{when}"

    return __str__


# Characters per piece of a body when the span text check reads it (see Span.Meta.triggers): a span of at most
# this many characters lies within two consecutive pieces.
SPAN_CHECK_PIECE = 200
# A statement inserting at most this many spans (a workspace create, a few accepted suggestions) checks each with
# one substr on its body: cutting a 60,000-character body into pieces costs ~1.2 ms of PostgreSQL time, a substr
# walking to the middle of it ~0.05 ms. Bulk inserts (an import's COPY, accepting a label's suggestions) cut.
SPAN_CHECK_DIRECT = 8


@pghistory.track(
    history.InsertEvent(),
    history.UpdateEvent(),
    history.DeleteEvent(),
    model_name="SpanEvent",
    attrs={"__str__": _event_str("Span")},
)
class Span(models.Model):
    """A labelled range of an article's body: code points ``[start, end)`` of ``article.body``."""

    Origin = SpanOrigin

    # No index of their own for the three keys: Django's would repeat span_label_idx and span_annotator_idx, and
    # every index starting with the article (span_article_annotator_idx, span_unique_per_annotator...) serves
    # lookups by article. Each index is written for every span an import copies.
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="spans", db_index=False)
    label = models.ForeignKey(Label, on_delete=models.PROTECT, related_name="spans", db_index=False)
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField(help_text="A copy of body[start:end], checked on every write")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="spans", db_index=False
    )
    origin = models.CharField(max_length=16, choices=SpanOrigin.choices, default=SpanOrigin.MANUAL)
    note = models.TextField(blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["article_id", "start", "-end", "label_id"]
        permissions = [
            ("review_span", "Can see and change every editor's spans"),
            ("export_spans", "Can export spans and articles"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start__gte=0, end__gt=models.F("start")), name="span_start_before_end"
            ),
            models.CheckConstraint(
                condition=models.Q(end=models.F("start") + Length("text")), name="span_text_length_matches_offsets"
            ),
            models.CheckConstraint(condition=models.Q(origin__in=SpanOrigin.values), name="span_origin_valid"),
            models.UniqueConstraint(
                fields=["article", "label", "start", "end", "annotator"], name="span_unique_per_annotator"
            ),
        ]
        triggers = [
            # A span's text is exactly body[start:end]: substr counts characters (code points) in a UTF-8 database.
            # Inserts are checked once per statement over its transition table (an import's COPY of thousands of
            # spans); an edit's UPDATE touches one row, so it keeps the row-level check. Same rule, same error and
            # constraint name. substr over UTF-8 walks the text from its first character on every call (it
            # cannot jump to a character offset), so each body inserted into is cut once, in one regex pass, into
            # pieces of SPAN_CHECK_PIECE characters: a span then reads at most two pieces at a known index. The
            # text's length is end - start (span_text_length_matches_offsets, checked before this runs), so a span
            # running past the body reads short and differs; which of the two it was is told apart afterwards.
            # No LIMIT: it would make the planner probe the pieces per span in a nested loop (PL/pgSQL's SELECT
            # INTO stops at the first row anyway).
            pgtrigger.Trigger(
                name="span_text_matches_body",
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                level=pgtrigger.Statement,
                referencing=pgtrigger.Referencing(new="inserted"),
                declare=[("bad", "record"), ("body_length", "integer")],
                func=f"""
                IF (SELECT count(*) FROM inserted) <= {SPAN_CHECK_DIRECT} THEN
                  SELECT i.start, i."end", i.article_id INTO bad
                    FROM inserted i JOIN articles_article a ON a.id = i.article_id
                   WHERE substr(a.body, i.start + 1, i."end" - i.start) IS DISTINCT FROM i.text;
                ELSE
                WITH bodies AS MATERIALIZED (
                  SELECT a.id, ARRAY(
                           SELECT piece.match[1]
                             FROM regexp_matches(a.body, '.{{1,{SPAN_CHECK_PIECE}}}', 'g') WITH ORDINALITY
                                  AS piece(match, n)
                            ORDER BY piece.n
                         ) AS pieces
                    FROM articles_article a
                   WHERE a.id IN (SELECT article_id FROM inserted)
                )
                SELECT i.start, i."end", i.article_id INTO bad
                  FROM inserted i JOIN bodies b ON b.id = i.article_id
                 WHERE CASE WHEN i."end" - i.start <= {SPAN_CHECK_PIECE}
                            THEN substr(coalesce(b.pieces[i.start / {SPAN_CHECK_PIECE} + 1], '')
                                        || coalesce(b.pieces[i.start / {SPAN_CHECK_PIECE} + 2], ''),
                                        i.start % {SPAN_CHECK_PIECE} + 1, i."end" - i.start)
                            ELSE substr(array_to_string(b.pieces, ''), i.start + 1, i."end" - i.start)
                       END IS DISTINCT FROM i.text;
                END IF;
                IF NOT FOUND THEN
                  RETURN NULL;
                END IF;
                SELECT char_length(a.body) INTO body_length FROM articles_article a WHERE a.id = bad.article_id;
                IF bad."end" > body_length THEN
                  RAISE EXCEPTION 'span %-% runs past the end of article % (% characters)',
                    bad.start, bad."end", bad.article_id, body_length
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'span_text_matches_body';
                END IF;
                RAISE EXCEPTION 'span text does not match body[%:%] of article %', bad.start, bad."end", bad.article_id
                  USING ERRCODE = 'check_violation', CONSTRAINT = 'span_text_matches_body';
                """,  # noqa: S608 (SPAN_CHECK_PIECE and SPAN_CHECK_DIRECT are constant integers)
            ),
            pgtrigger.Trigger(
                name="span_text_matches_body_update",
                when=pgtrigger.Before,
                operation=pgtrigger.UpdateOf("start", "end", "text", "article_id"),
                declare=[("actual", "text"), ("body_length", "integer")],
                func="""
                SELECT substr(a.body, NEW.start + 1, NEW."end" - NEW.start), char_length(a.body)
                  INTO actual, body_length FROM articles_article a WHERE a.id = NEW.article_id;
                IF NEW."end" > body_length THEN
                  RAISE EXCEPTION 'span %-% runs past the end of article % (% characters)',
                    NEW.start, NEW."end", NEW.article_id, body_length
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'span_text_matches_body';
                END IF;
                IF actual IS DISTINCT FROM NEW.text THEN
                  RAISE EXCEPTION 'span text does not match body[%:%] of article %',
                    NEW.start, NEW."end", NEW.article_id
                    USING ERRCODE = 'check_violation', CONSTRAINT = 'span_text_matches_body';
                END IF;
                RETURN NEW;
                """,
            ),
        ]
        indexes = [
            models.Index(fields=["article", "annotator"], name="span_article_annotator_idx"),
            # Where spans start and end in an article: propagation's "crosses or lies inside" probes (range scans).
            models.Index(fields=["article", "start"], name="span_article_start_idx"),
            models.Index(fields=["article", "end"], name="span_article_end_idx"),
            models.Index(fields=["label"], name="span_label_idx"),
            models.Index(fields=["annotator"], name="span_annotator_idx"),
        ]

    def __str__(self) -> str:
        return f"Span {self.pk}: characters {self.start}–{self.end} of article {self.article_id}"


# Every claim, lease renewal, done, reopen and release lands in AssignmentEvent (database triggers, with the
# request's user and url), so a release or a reopened piece of work keeps its history.
@pghistory.track(history.InsertEvent(), history.UpdateEvent(), history.DeleteEvent(), model_name="AssignmentEvent")
class Assignment(models.Model):
    """One editor's slot on an article: an explicit assignment by a curator, or a claim made by opening it.

    A slot counts toward the article's k editors while it is not released and is explicit, started (the editor
    has made a span), done, or still leased. An unstarted claim whose lease has run out holds nothing, so the
    article goes back to the queue. ``annotations.workflow`` holds the rules; the database holds the shape.
    """

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="assignments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)
    explicit = models.BooleanField(default=True, help_text="Made by a curator; no for a claim made by opening it")
    leased_until = models.DateTimeField(null=True, blank=True, help_text="A claim without spans lapses after this")
    started_at = models.DateTimeField(null=True, blank=True, help_text="The editor's first span on the article")
    done_at = models.DateTimeField(null=True, blank=True, help_text="When the editor marked their work done")
    released_at = models.DateTimeField(
        null=True, blank=True, help_text="Released by a curator: the spans stay, unfinished, outside agreement"
    )
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        permissions = [("release_assignment", "Can release an editor's slot on an article")]
        constraints = [
            models.UniqueConstraint(fields=["article", "user"], name="assignment_unique"),
            # Released work is unfinished by definition: a released slot is never done.
            models.CheckConstraint(
                condition=models.Q(released_at__isnull=True) | models.Q(done_at__isnull=True),
                name="assignment_released_not_done",
            ),
            # A claim always has a lease; an explicit assignment holds its slot without one.
            models.CheckConstraint(
                condition=models.Q(explicit=True) | models.Q(leased_until__isnull=False),
                name="assignment_claim_has_lease",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "article"], name="assignment_user_article_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.article_id} → {self.user_id}"


# Article history lives here because a proxy keeps the triggers and the event table in this app's migrations:
# the corpus app knows nothing of history, as it knows nothing of labels. The body is left out of the
# snapshots: it may only change while no span points into it, so its hash marks when it changed, and copying
# every text into the history would double the corpus at each import.
@pghistory.track(
    history.InsertEvent(),
    history.UpdateEvent(),
    history.DeleteEvent(),
    exclude=["body"],
    model_name="ArticleEvent",
    attrs={"__str__": _event_str("Article")},
)
class TrackedArticle(Article):
    class Meta:
        proxy = True
        verbose_name = "article (history)"
        triggers = [
            # Spans hold offsets into the body, so it cannot change under them. The message is the explanation
            # ``articles.services.article_update`` shows (it knows the constraint-name prefix, not spans), and
            # the same sentence ``annotations.spans.selectors.body_lock_reason`` gives the admin up front.
            pgtrigger.Trigger(
                name="article_body_locked_by_spans",
                when=pgtrigger.Before,
                operation=pgtrigger.UpdateOf("body"),
                condition=pgtrigger.Condition("NEW.body IS DISTINCT FROM OLD.body"),
                declare=[("spans", "integer")],
                func="""
                SELECT count(*) INTO spans FROM annotations_span WHERE article_id = OLD.id;
                -- Gold spans hold offsets into the body too (annotations/review/models.py).
                SELECT spans + count(*) INTO spans FROM annotations_goldspan WHERE article_id = OLD.id;
                IF spans > 0 THEN
                  RAISE EXCEPTION USING
                    MESSAGE = format('The text cannot change: %s span%s point into it by character offset, ', spans,
                      CASE WHEN spans = 1 THEN '' ELSE 's' END) || 'and editing it would shift them. Delete the '
                      || 'spans first or import the corrected text as a new article.',
                    ERRCODE = 'check_violation', CONSTRAINT = 'article_body_locked_by_spans';
                END IF;
                RETURN NEW;
                """,
            ),
        ]


# Agreement's token cache lives in its own room; imported here so the model belongs to this app's migrations.
from annotations.agreement.models import ArticleTokens  # noqa: E402, F401

# Export jobs and their files live in the exports room; imported here so they belong to this app.
from annotations.exports.models import ExportChunk, ExportJob  # noqa: E402, F401

# Admin import jobs and their uploads live in the imports room; imported here so they belong to this app.
from annotations.imports.models import ImportChunk, ImportJob  # noqa: E402, F401

# The gold layer and review decisions live in the review room; imported here so they belong to this app.
from annotations.review.models import GoldSource, GoldSpan, ReviewDecision  # noqa: E402, F401

# Boilerplate families and suggestions live in their own module; importing them here registers them in this app.
from annotations.suggestions.models import (  # noqa: E402, F401
    BoilerplateCopy,
    BoilerplateFamily,
    BoilerplatePassage,
    Suggestion,
    SuggestionDecision,
)

# The site-wide workflow settings live in their own room; imported here so the model belongs to this app.
from annotations.workflow.models import MergeStrategy, WorkflowSettings  # noqa: E402, F401

# Undo history and idempotency outcomes are the workspace's; importing them here registers them in this app.
from annotations.workspace.models import UndoEntry, WorkspaceDrawing, WriteOutcome  # noqa: E402, F401

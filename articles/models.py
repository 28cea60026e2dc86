import datetime as dt
import hashlib

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Expression, F, Value
from django.db.models.functions import Coalesce, Upper
from django.utils import timezone

from articles.validation import PUBLISHED_MAX, PUBLISHED_MIN, PUBLISHED_RANGE_TEXT, language_tag, published_at_in_range

# The full-text search: English stemming; title words weigh more (A) than body words (B).
SEARCH_CONFIG = "english"
SEARCH_DOCUMENT_COLUMN = "search_document"
# The stored vector's definition (kept by a trigger, migration articles 0007; a bulk import may leave it NULL
# for a job to fill, articles.indexing); article_text_problem checks a text against the same expression before
# it is stored.
SEARCH_DOCUMENT_SQL = (
    "setweight(to_tsvector('english'::regconfig, {title}), 'A') || "
    "setweight(to_tsvector('english'::regconfig, {body}), 'B')"
)


class SearchDocument(Expression):
    """The article's stored full-text vector, ``articles_article.search_document``, indexed by GIN.

    The column is kept by a PostgreSQL trigger (NULL until ``articles.indexing`` fills it after a bulk import:
    such an article is not found by search yet) and deliberately not a model field: a field would be SELECTed with
    every article and RETURNed after every save (up to 1 MB each), and copied into every history event.
    Use it in ``alias()`` / ``filter()`` on Article querysets only.
    """

    output_field = SearchVectorField()

    def as_sql(self, compiler, connection):
        alias = compiler.query.get_initial_alias()
        return f"{compiler.quote_name(alias)}.{connection.ops.quote_name(SEARCH_DOCUMENT_COLUMN)}", []


def body_sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def body_sha256_sql() -> models.Func:
    """``encode(sha256(convert_to(body, 'UTF8')), 'hex')``: the database's own hash of the body."""
    utf8 = models.Func(models.F("body"), models.Value("UTF8"), function="convert_to")
    return models.Func(
        models.Func(utf8, function="sha256"), models.Value("hex"), function="encode", output_field=models.CharField()
    )


def validate_published_at(value) -> None:
    if value is not None and not published_at_in_range(value):
        raise ValidationError(f"The date must be {PUBLISHED_RANGE_TEXT}.", code="published_at_range")


def validate_language_tag(value: str) -> None:
    if value and language_tag(value) != value:
        raise ValidationError(
            "Use a BCP-47 language tag such as en, en-US or zh-Hant-TW (a hyphen, not an underscore).",
            code="language_tag",
        )


class Source(models.Model):
    """Where articles come from: a site's domain or a syndication feed id."""

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, unique=True, help_text="Domain or feed id, e.g. wirefeed.example")
    editors_per_article = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="How many editors label each article of this source; empty: the site-wide setting.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(domain=""), name="source_domain_not_empty"),
            models.CheckConstraint(
                condition=models.Q(editors_per_article__isnull=True) | models.Q(editors_per_article__gte=1),
                name="source_editors_per_article_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ArticleStatus(models.TextChoices):
    """Where an article stands across its editors: nobody has started; some editors are at work; as many editors
    as the article needs have marked their own work done; a reviewer has accepted its gold layer."""

    NEW = "new", "New"
    IN_ANNOTATION = "in_annotation", "In annotation"
    READY_FOR_REVIEW = "ready_for_review", "Ready for review"
    REVIEWED = "reviewed", "Reviewed"


# Undated articles sort after every dated one: "published_at DESC NULLS LAST" as a non-null, indexable key.
UNDATED = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


def queue_order() -> Coalesce:
    """The date key of queue order (newest first); the same expression as ``article_status_queue_order_idx``."""
    return Coalesce("published_at", Value(UNDATED))


class Article(models.Model):
    Status = ArticleStatus

    title = models.CharField(max_length=500)
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="articles", null=True, blank=True)
    # NULL, not "", when absent: the unique constraint then applies only to real URLs.
    url = models.URLField(  # noqa: DJ001
        max_length=2000, null=True, blank=True, validators=[URLValidator(schemes=["http", "https"])]
    )
    byline = models.CharField(max_length=300, blank=True)
    published_at = models.DateTimeField(null=True, blank=True, validators=[validate_published_at])
    language = models.CharField(
        max_length=16, blank=True, validators=[validate_language_tag], help_text="BCP-47, e.g. en, en-US, pt-BR"
    )
    body = models.TextField(
        help_text="Plain text. Newlines are normalised to \\n at import; otherwise stored exactly as received."
    )
    body_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    imported_at = models.DateTimeField(default=timezone.now)
    editors_per_article = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="How many editors label this article (set at import); empty: its source's, else the site's.",
    )
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-published_at", "-id"]
        permissions = [("review_article", "Can mark articles reviewed or reopen them")]
        constraints = [
            models.UniqueConstraint(fields=["url"], condition=models.Q(url__isnull=False), name="article_url_unique"),
            models.CheckConstraint(condition=~models.Q(url=""), name="article_url_null_not_empty"),
            models.CheckConstraint(condition=models.Q(body__regex=r"\S"), name="article_body_not_blank"),
            models.CheckConstraint(condition=~models.Q(body__contains="\r"), name="article_body_newlines_normalised"),
            models.CheckConstraint(
                condition=models.Q(body_sha256__regex=r"^[0-9a-f]{64}$"), name="article_body_sha256_hex"
            ),
            models.CheckConstraint(condition=models.Q(status__in=ArticleStatus.values), name="article_status_valid"),
            models.CheckConstraint(condition=~models.Q(title=""), name="article_title_not_empty"),
            models.CheckConstraint(
                condition=models.Q(editors_per_article__isnull=True) | models.Q(editors_per_article__gte=1),
                name="article_editors_per_article_positive",
            ),
            # The hash that makes bodies unique is the body's hash, whoever writes the row.
            models.CheckConstraint(
                condition=models.Q(body_sha256=body_sha256_sql()), name="article_body_sha256_matches_body"
            ),
            # A link the pages render: never javascript:, data: or any other scheme.
            models.CheckConstraint(
                condition=models.Q(url__isnull=True) | models.Q(url__iregex=r"^https?://"), name="article_url_http"
            ),
            # Years 1000-9998 in UTC (articles.validation): Python cannot hold a date beyond year 9999 in any
            # time zone, and one such row would break every page and export that shows it.
            models.CheckConstraint(
                condition=models.Q(published_at__isnull=True)
                | models.Q(published_at__gte=PUBLISHED_MIN, published_at__lt=PUBLISHED_MAX),
                name="article_published_at_range",
            ),
            # The shape of a BCP-47 tag; the importers and the admin store it canonically (en-US).
            models.CheckConstraint(
                condition=models.Q(language__regex=r"^([A-Za-z0-9]{1,8}(-[A-Za-z0-9]{1,8})*)?$"),
                name="article_language_tag_shape",
            ),
        ]
        indexes = [
            # Curators find an article by a piece of its url (admin search); trigrams answer the substring
            # (``url__icontains`` is ``UPPER(url) LIKE UPPER(...)`` on PostgreSQL, hence the expression).
            GinIndex(OpClass(Upper("url"), name="gin_trgm_ops"), name="article_url_trgm"),
            models.Index(fields=["status"], name="article_status_idx"),
            # Newest first within a status, undated last: the order of a work queue, walked one row at a time.
            models.Index(F("status"), queue_order().desc(), F("id").desc(), name="article_status_queue_order_idx"),
            models.Index(fields=["source", "status"], name="article_source_status_idx"),
            # The admin's language filter lists the languages by skipping through this index (articles.admin).
            models.Index(fields=["language"], name="article_language_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def body_length(self) -> int:
        return len(self.body)

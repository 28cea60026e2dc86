import datetime as dt
import hashlib

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

# The full-text search vector: the same expression serves the GIN index and the queries that use it.
SEARCH_CONFIG = "english"


def search_vector() -> SearchVector:
    return SearchVector("title", "body", config=SEARCH_CONFIG)


def body_sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class Source(models.Model):
    """Where articles come from: a site's domain or a syndication feed id."""

    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=253, unique=True, help_text="Domain or feed id, e.g. wirefeed.example")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(domain=""), name="source_domain_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class ArticleStatus(models.TextChoices):
    NEW = "new", "New"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
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
    url = models.URLField(max_length=2000, null=True, blank=True)  # noqa: DJ001
    byline = models.CharField(max_length=300, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(max_length=16, blank=True)
    body = models.TextField(
        help_text="Plain text. Newlines are normalised to \\n at import; otherwise stored exactly as received."
    )
    body_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    imported_at = models.DateTimeField(default=timezone.now)
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
        ]
        indexes = [
            GinIndex(search_vector(), name="article_search_gin"),
            models.Index(fields=["status"], name="article_status_idx"),
            # Newest first within a status, undated last: the order of a work queue, walked one row at a time.
            models.Index(F("status"), queue_order().desc(), F("id").desc(), name="article_status_queue_order_idx"),
            models.Index(fields=["source", "status"], name="article_source_status_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def body_length(self) -> int:
        return len(self.body)

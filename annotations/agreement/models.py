"""Token boundaries stored per article, so agreement runs do not tokenize the corpus again."""

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models.lookups import Exact

from articles.models import Article


def _cardinality(field: str) -> models.Func:
    return models.Func(models.F(field), function="cardinality", output_field=models.IntegerField())


class ArticleTokens(models.Model):
    """Where the CoNLL export's tokens of an article start and end (code points, end exclusive).

    A cache, filled at first use (``annotations.agreement.services.article_tokens_fill``): a row counts only while
    its ``body_sha256`` and ``tokenizer`` equal the article's hash and ``tokens.TOKENIZER``, and is refilled otherwise.
    """

    article = models.OneToOneField(Article, on_delete=models.CASCADE, primary_key=True, related_name="+")
    body_sha256 = models.CharField(max_length=64, help_text="The article's body_sha256 when it was tokenized")
    tokenizer = models.CharField(max_length=16, help_text="Fingerprint of the tokenizer that made them")
    starts = ArrayField(models.IntegerField())
    ends = ArrayField(models.IntegerField())

    class Meta:
        verbose_name_plural = "article tokens"
        # The agreement page and figures: reviewers, researchers and curators (migration 0007), never editors.
        permissions = [("view_agreement", "Can see agreement between editors")]
        constraints = [
            models.CheckConstraint(
                condition=Exact(_cardinality("starts"), _cardinality("ends")), name="articletokens_same_length"
            ),
        ]

    def __str__(self) -> str:
        return f"tokens of {self.article_id}"

"""Token boundaries stored per article, so agreement runs do not tokenize the corpus again."""

from django.db import models
from django.db.models.functions import Length, Mod
from django.db.models.lookups import Exact, GreaterThan

from articles.models import Article


class ArticleTokens(models.Model):
    """Where the CoNLL export's tokens of an article start and end (code points, end exclusive).

    A cache, filled at first use (``annotations.agreement.services``): a row counts only while its ``body_sha256``
    and ``tokenizer`` equal the article's hash and ``tokens.TOKENIZER``, and is refilled otherwise. Offsets are
    packed as 4-byte big-endian integers (PostgreSQL's ``int4send`` order): a run reads 10,000 articles' boundaries
    in a tenth of a second, where ``integer[]`` took two seconds to parse.
    """

    article = models.OneToOneField(Article, on_delete=models.CASCADE, primary_key=True, related_name="+")
    body_sha256 = models.CharField(max_length=64, help_text="The article's body_sha256 when it was tokenized")
    tokenizer = models.CharField(max_length=16, help_text="Fingerprint of the tokenizer that made them")
    starts = models.BinaryField(help_text="Token starts, 4-byte big-endian integers")
    ends = models.BinaryField(help_text="Token ends, 4-byte big-endian integers")

    class Meta:
        verbose_name_plural = "article tokens"
        # The agreement page and figures: reviewers, researchers and curators (migration 0007), never editors.
        permissions = [("view_agreement", "Can see agreement between editors")]
        constraints = [
            models.CheckConstraint(condition=Exact(Length("starts"), Length("ends")), name="articletokens_same_length"),
            models.CheckConstraint(
                condition=GreaterThan(Length("starts"), 0) & Exact(Mod(Length("starts"), 4), 0),
                name="articletokens_whole_integers",
            ),
        ]

    def __str__(self) -> str:
        return f"tokens of {self.article_id}"

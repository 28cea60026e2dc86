import pytest

from annotations.workflow.models import WorkflowSettings
from annotations.workflow.selectors import workflow_settings
from tests.annotations.agreement.conftest import finish
from tests.factories import ArticleFactory, SpanFactory

# Emoji with ZWJ (family), a combining mark (e + U+0301) and CJK before the names, so offsets in code points
# differ from UTF-16 units and from bytes.
BODY = (
    "👨\u200d👩\u200d👧 Cafe\u0301 note: Mara Okonkwo of Larchfield Systems said the chip ships in May. "
    "東京 sources told Quillix Labs otherwise."
)


def at(text: str, body: str = BODY) -> tuple[int, int]:
    start = body.index(text)
    return start, start + len(text)


@pytest.fixture
def article(db):
    return ArticleFactory(body=BODY)


@pytest.fixture
def two_layers(article, labels, editor, other_editor):
    """Editor ed and ed2: agree on one PERSON; differ in label, in boundaries, and in a span only ed made."""
    person, org = labels["person"], labels["org"]
    spans = {}

    def make(key, who, label, text):
        start, end = at(text)
        spans[key] = SpanFactory(article=article, label=label, start=start, end=end, annotator=who)

    make("agreed_a", editor, person, "Mara Okonkwo")
    make("agreed_b", other_editor, person, "Mara Okonkwo")
    make("labels_a", editor, org, "Larchfield Systems")
    make("labels_b", other_editor, person, "Larchfield Systems")
    make("bounds_a", editor, org, "Quillix Labs")
    make("bounds_b", other_editor, org, "Quillix")
    make("only_a", editor, person, "Cafe\u0301")
    finish(article, editor, other_editor)
    return spans


@pytest.fixture
def anonymous(db) -> WorkflowSettings:
    settings = workflow_settings()
    settings.anonymous_review = True
    settings.save(update_fields=["anonymous_review"])
    return settings

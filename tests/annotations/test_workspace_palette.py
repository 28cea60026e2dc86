"""The palette is drawn once per process for each state of the labels: a curator's change shows on the next page."""

import pytest

from annotations.models import Label
from tests.factories import ArticleFactory
from tests.html import one, parse, select, text
from tests.workspace import url

pytestmark = pytest.mark.django_db


def _palette(client, article):
    page = parse(client.get(url("article-annotate", article)).content)
    buttons = [(b.get("data-name"), b.get("data-hotkey")) for b in select(page, ".palette .label-btn")]
    keys = [text(row) for row in select(page, "#ws-help tr") if "Label the selection" in text(row)]
    return buttons, keys, page


def test_a_label_renamed_retired_or_given_a_workspace_key_shows_on_the_next_page(editor_client, labels):
    article = ArticleFactory()
    buttons, keys, _ = _palette(editor_client, article)
    assert buttons == [("PERSON", "1"), ("ORG", "2"), ("CLAIM", "3"), ("SPONSORED", "4")]
    assert len(keys) == 4
    Label.objects.filter(pk=labels["org"].pk).update(name="COMPANY")
    Label.objects.filter(pk=labels["sponsored"].pk).update(active=False)
    Label.objects.filter(pk=labels["claim"].pk).update(hotkey="n", description="A statement <someone> makes.")
    buttons, keys, page = _palette(editor_client, article)
    assert buttons == [("PERSON", "1"), ("COMPANY", "2"), ("CLAIM", "")]  # "n" is the workspace's Next
    assert [key[0] for key in keys] == ["1", "2"] and "COMPANY" in keys[1]
    guideline = one(page, f"#guide-{labels['claim'].slug}")
    assert text(guideline).startswith("A statement <someone> makes. Its key “n” is a workspace shortcut")
    Label.objects.filter(pk=labels["org"].pk).update(name="ORG")  # back as it was: drawn as it was
    assert _palette(editor_client, article)[0][1] == ("ORG", "2")

"""An article whose stored language tag the browser refuses still gets its labels (snap-to-words on).

``new Intl.Segmenter("en-US-US")`` throws a RangeError. Before the fallback in ``selection.js`` the label key
then did nothing at all, silently. The database's shape check allows this tag (it looks like BCP-47), so it is
written with raw SQL, as an old row or another program could have left it.
"""

import pytest
from django.db import connection

from tests.browser.test_workspace_browser import BODY, drag, open_workspace, press, python_offsets, stored
from tests.factories import ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

__all__ = ["open_workspace"]  # the fixture, shared with the workspace tests


def test_label_keys_work_when_the_browser_refuses_the_language_tag(open_workspace, page):
    article = ArticleFactory(title="Chip news", body=BODY)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE articles_article SET language = 'en-US-US' WHERE id = %s", [article.pk])
    assert (
        page.evaluate("() => { try { new Intl.Segmenter('en-US-US'); return 'ok'; } catch (e) { return e.name; } }")
        == "RangeError"
    )
    page = open_workspace(article)
    assert page.locator("#ws-body").get_attribute("lang") == "en-US-US"
    assert page.locator("#ws-snap").is_checked()
    drag(page, "konkwo of Larch")
    assert press(page, "3", path="/spans/") == 200
    assert stored(article) == [("claim", *python_offsets(BODY, "Okonkwo of Larchfield"), "Okonkwo of Larchfield")]

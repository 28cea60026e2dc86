"""The one table of workspace keys (annotations/keymap.py): no key twice, every action implemented, reserved."""

import re
from collections import Counter
from pathlib import Path

from annotations import keymap
from annotations.admin.labels import LabelAdminForm

STATIC_JS = Path(__file__).resolve().parents[2] / "static" / "js"


def test_no_key_does_two_things_on_one_page():
    for page in {command.page for command in keymap.COMMANDS}:
        keys = Counter(key for command in keymap.commands(page) for key in command.keys)
        assert [key for key, count in keys.items() if count > 1] == [], page


def test_every_bound_action_is_defined_in_the_javascript():
    defined = set()
    for script in STATIC_JS.glob("*.js"):
        defined |= set(re.findall(r'defineAction\("([^"]+)"', script.read_text()))
    wanted = {row["action"] for row in keymap.bindings(keymap.WORKSPACE)}
    assert wanted - defined == set()


def test_command_keys_are_reserved_for_labels(labels):
    assert {"d", "n", "e", "w", "?", "t", "/", "(", "{"} <= keymap.WORKSPACE_COMMAND_KEYS
    form = LabelAdminForm(data={"name": "TOPIC", "slug": "topic", "kind": "entity", "color": "#aabbcc",
                                "hotkey": "t", "ordering": 9, "active": True})  # fmt: skip
    assert not form.is_valid()
    assert "workspace command key" in form.errors["hotkey"][0]


def test_the_help_dialog_lists_every_row(editor_client, labels):
    from tests.factories import ArticleFactory

    article = ArticleFactory()
    html = editor_client.get(f"/articles/{article.pk}/annotate/").content.decode()
    for command in keymap.commands(keymap.WORKSPACE):
        assert command.does in html.replace("&#x27;", "'")
    assert 'id="ws-keys"' in html

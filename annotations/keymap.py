"""Every key the workspace (and the pages beside it) answers, in one table.

The `?` dialog is drawn from this table, the page hands it to ``static/js/workspace.js`` (``json_script``), which
binds each row's keys to the JavaScript action of the same name, and the admin refuses a label hotkey that is one
of these keys. To add a key: add a ``Command`` row here (``action`` names the function registered with
``defineAction`` in ``static/js/hotkeys.js``), nothing else. ``tests/annotations/test_keymap.py`` checks that no
two rows of one page share a key and that every workspace row has its action in the JavaScript.

Key names are those of ``shortcutName`` in hotkeys.js: the lower-cased ``KeyboardEvent.key`` ("d", "?", "delete",
"arrowdown"), with "ctrl+" before it for Ctrl (or Cmd) chords. Rows whose ``action`` is empty document keys that
another script handles itself (the caret's arrow keys in caret.js, Tab); their single-character keys are reserved
all the same.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter

from django.utils.html import escape, json_script
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True, slots=True)
class Command:
    action: str  # the JavaScript action bound to ``keys``; "" when another script handles them
    keys: tuple[str, ...]
    shown: str  # the keys as the `?` dialog prints them, each key in <kbd> (see ``keys_html``)
    does: str
    group: str = "Commands"
    page: str = "workspace"  # "workspace" or "review" (the review page's own keys)


WORKSPACE = "workspace"
REVIEW = "review"

COMMANDS: tuple[Command, ...] = (
    # Moving and selecting in the text (caret.js).
    Command(
        "",
        ("arrowleft", "arrowright", "arrowup", "arrowdown", "home", "end"),
        "← → ↑ ↓ Home End",
        "Move the caret in the article text",
        "Text",
    ),
    Command("", (), "Shift+← → ↑ ↓", "Select text from the caret", "Text"),
    Command("", (), "Ctrl+← →", "Move word by word (add Shift to select)", "Text"),
    Command("", ("(", ")"), "( )", "Previous / next sentence", "Text"),
    Command("", ("{", "}"), "{ }", "Previous / next paragraph", "Text"),
    Command("", (), "Ctrl+↑ ↓", "Previous / next paragraph (add Shift to select)", "Text"),
    Command("", (), "Tab Shift+Tab", "Select the next / previous span", "Spans"),
    Command("cycle", ("enter",), "Enter", "Select a highlight; again for the next span overlapping it", "Spans"),
    Command("delete", ("delete", "backspace"), "Delete Backspace", "Delete the selected span", "Spans"),
    # Suggestions (static/js/suggestions.js).
    Command("suggestion-next", ("s",), "s", "Select the next suggestion (dashed outline)", "Suggestions"),
    Command(
        "suggestion-accept", ("a",), "a Enter", "Accept the selected suggestion: it becomes your span", "Suggestions"
    ),
    Command(
        "suggestion-reject",
        ("x",),
        "x",
        "Reject the selected suggestion (it does not come back; Ctrl+Z brings it back)",
        "Suggestions",
    ),
    Command("edit", ("e",), "e", "Edit the selected span's note (claims: speaker and verdict)", "Spans"),
    Command("undo", ("ctrl+z",), "Ctrl+Z", "Undo your last create, delete or relabel on this article", "Spans"),
    Command("find", ("/",), "/", "Find in the article", "Article"),
    Command("status", ("d",), "d", "Mark the article done (again: reopen it)", "Article"),
    Command("next", ("n",), "n", "Go to the next open article in the queue", "Article"),
    Command("snap", ("w",), "w", "Snap selections to whole words, or not (remembered)", "Article"),
    Command("text", ("t",), "t", "Put the caret in the article text", "Article"),
    Command("help", ("?",), "?", "Show this list", "Article"),
    Command("escape", ("escape",), "Esc", "Deselect, or close this list", "Article"),
    # The review page (static/js/review.js binds these itself; label hotkeys there add gold spans).
    Command("", ("j", "k"), "j k", "Next / previous conflict", "Conflicts", REVIEW),
    Command("", tuple("abcdef"), "a b c …", "Accept Editor A’s, B’s, C’s … version", "Conflicts", REVIEW),
    Command("", ("x",), "x", "Reject the conflict's spans", "Conflicts", REVIEW),
    Command("", ("y",), "y", "Accept every span all editors agree on", "Gold", REVIEW),
    Command("", ("m",), "m", "Re-merge what is undecided by the merge strategy", "Gold", REVIEW),
    Command("", ("u",), "u", "Undo your last review decision", "Gold", REVIEW),
    Command("", ("r",), "r", "Mark the article reviewed", "Article", REVIEW),
    Command("", ("?",), "?", "Show the review keys", "Article", REVIEW),
)


def commands(page: str = WORKSPACE) -> tuple[Command, ...]:
    return tuple(command for command in COMMANDS if command.page == page)


def bindings(page: str = WORKSPACE) -> list[dict[str, object]]:
    """What the page's JavaScript needs: each bound action with its keys."""
    return [{"action": c.action, "keys": list(c.keys)} for c in commands(page) if c.action]


@functools.cache
def help_rows(page: str = WORKSPACE) -> SafeString:
    """The ``?`` dialog's rows for ``page``'s commands, grouped as listed: drawn once per process (the table is code,
    and a template loop over it cost a fifth of the annotate page's time)."""
    rows = []
    for group, listed in groupby(commands(page), key=attrgetter("group")):
        rows.append(f'<tr><th scope="rowgroup" colspan="2" class="group">{escape(group)}</th></tr>')
        for command in listed:
            keys = " ".join(f"<kbd>{escape(key)}</kbd>" for key in command.shown.split())
            rows.append(f'<tr><th scope="row">{keys}</th><td>{escape(command.does)}</td></tr>')
    return mark_safe("\n".join(rows))  # noqa: S308 -- every text above is escaped


@functools.cache
def bindings_script(page: str, element_id: str) -> SafeString:
    """``bindings`` as the page's JSON data block (``json_script``), once per process."""
    return json_script(bindings(page), element_id)


# A label hotkey on one of these would never fire (or would fire a command), so the admin refuses it and the
# palette says "click the label instead".
WORKSPACE_COMMAND_KEYS = frozenset(key for command in commands(WORKSPACE) for key in command.keys if len(key) == 1)
REVIEW_EDITOR_KEYS = "abcdef"  # Editor A-F's version, in the order the review page letters the editors
REVIEW_COMMAND_KEYS = frozenset(key for command in commands(REVIEW) for key in command.keys if len(key) == 1)

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

from dataclasses import dataclass


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
    Command("edit", ("e",), "e", "Edit the selected span's note (claims: speaker and verdict)", "Spans"),
    Command("undo", ("ctrl+z",), "Ctrl+Z", "Undo your last create, delete or relabel on this article", "Spans"),
    Command("find", ("/",), "/", "Find in the article", "Article"),
    Command("status", ("d",), "d", "Mark the article done (again: reopen it)", "Article"),
    Command("next", ("n",), "n", "Go to the next open article in the queue", "Article"),
    Command("snap", ("w",), "w", "Snap selections to whole words, or not (remembered)", "Article"),
    Command("text", ("t",), "t", "Put the caret in the article text", "Article"),
    Command("help", ("?",), "?", "Show this list", "Article"),
    Command("escape", ("escape",), "Esc", "Deselect, or close this list", "Article"),
)


def commands(page: str = WORKSPACE) -> tuple[Command, ...]:
    return tuple(command for command in COMMANDS if command.page == page)


def bindings(page: str = WORKSPACE) -> list[dict[str, object]]:
    """What the page's JavaScript needs: each bound action with its keys."""
    return [{"action": c.action, "keys": list(c.keys)} for c in commands(page) if c.action]


# A label hotkey on one of these would never fire (or would fire a command), so the admin refuses it and the
# palette says "click the label instead".
WORKSPACE_COMMAND_KEYS = frozenset(key for command in commands(WORKSPACE) for key in command.keys if len(key) == 1)

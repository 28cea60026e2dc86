"""The grapheme check: boundaries as UAX #29 draws them, found without segmenting the whole article."""

import pytest
import regex

from annotations.spans.graphemes import grapheme_problem, is_boundary

CODER = "\U0001f469\u200d\U0001f4bb"  # 👩‍💻: woman, ZWJ, laptop
FLAGS = "\U0001f1eb\U0001f1f7\U0001f1e9\U0001f1ea"  # 🇫🇷🇩🇪
ACCENT = "e\u0301"  # é as e + combining acute


@pytest.mark.parametrize(
    ("body", "start", "end", "words"),
    [
        (f"a {CODER} b", 2, 3, "ends inside the character"),  # the woman without the ZWJ and laptop
        (f"a {CODER} b", 3, 4, "starts inside"),  # the lone ZWJ
        (f"a {FLAGS} b", 2, 3, "ends inside"),  # half of the French flag
        (f"a {FLAGS} b", 3, 5, "starts inside"),  # the second half of one flag and the first of the next
        (f"caf{ACCENT} noir", 0, 4, "ends inside"),  # the base letter without its accent
        (f"caf{ACCENT} noir", 4, 5, "starts inside"),  # the accent alone
        ("a \t\r\n b", 1, 6, "only whitespace"),
        ("a\u200b\u200bb", 1, 3, "only whitespace or invisible"),
    ],
)
def test_refused(body, start, end, words):
    assert words in grapheme_problem(body, start, end)


@pytest.mark.parametrize(
    ("body", "start", "end"),
    [
        (f"a {CODER} b", 2, 5),
        (f"a {FLAGS} b", 2, 4),
        (f"a {FLAGS} b", 4, 6),
        (f"caf{ACCENT} noir", 0, 5),
        ("a\r\nb", 0, 1),
        (" padded ", 0, 8),  # whitespace at the edges is kept as sent (imports), only all-blank is refused
    ],
)
def test_accepted(body, start, end):
    assert grapheme_problem(body, start, end) is None


def test_boundaries_match_whole_text_segmentation():
    body = f"x{CODER}\r\n{FLAGS}{FLAGS[:2]}\n{ACCENT}\u0301y\n\n{CODER}{ACCENT}"
    whole = {0, len(body)} | {m.end() for m in regex.finditer(r"\X", body)}
    assert {p for p in range(len(body) + 1) if is_boundary(body, p)} == whole

"""``LineEnds`` maps offsets between a file's text and the stored one (CRLF made LF) as the readers' per-span
definitions did, scanning the text once instead of once or twice per span."""

import random

from annotations.imports.offsets import LineEnds


def stored_by_count(raw: str, offset: int) -> int:
    """The records reader's definition: each whole CRLF before the offset is one character shorter."""
    return offset - raw[:offset].count("\r\n")


def raw_by_walk(raw: str, offset: int) -> int:
    """The doccano reader's definition: walk the file's text counting the stored text's characters."""
    seen = 0
    for index, char in enumerate(raw):
        if seen == offset:
            return index
        if not (char == "\r" and raw[index + 1 : index + 2] == "\n"):
            seen += 1
    return len(raw)


def test_every_offset_maps_as_the_per_span_definitions_on_random_texts():
    rng = random.Random(20261130)
    for _ in range(300):
        raw = "".join(rng.choice(["a", "é", "\r\n", "\r", "\n", "\r\r\n", "👩‍💻"]) for _ in range(rng.randint(0, 40)))
        lines = LineEnds(raw)
        stored = raw.replace("\r\n", "\n")
        assert [lines.stored(o) for o in range(len(raw) + 1)] == [stored_by_count(raw, o) for o in range(len(raw) + 1)]
        assert [lines.raw(o) for o in range(len(stored) + 1)] == [raw_by_walk(raw, o) for o in range(len(stored) + 1)]
        # Round trip: a stored offset goes to the file's text and back unchanged.
        assert all(lines.stored(lines.raw(o)) == o for o in range(len(stored) + 1))


def test_a_text_without_crlf_maps_every_offset_to_itself():
    lines = LineEnds("Mara Okonkwo\nof Larchfield\r said.")
    assert [lines.stored(o) for o in range(36)] == list(range(36)) == [lines.raw(o) for o in range(36)]

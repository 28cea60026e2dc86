"""Editors' layers laid over one another: agreed spans and conflicts, pure Python over plain rows.

A *version* is one (label, start, end) with the editors who made it: identical spans of several editors are one
version, so stacked same-label spans at one place merge (inception#1893). A version every counted editor made is
*agreed* (a perfect agreement shows as agreed whatever else overlaps it, webanno#1101). The other versions are
grouped into *conflicts*: versions whose ranges overlap, transitively. A conflict is settled when a live review
decision names every editor span in it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple


class EditorSpan(NamedTuple):
    id: int
    annotator_id: int
    label_id: int
    start: int
    end: int
    text: str


@dataclass
class Version:
    label_id: int
    start: int
    end: int
    text: str
    spans: list[EditorSpan] = field(default_factory=list)

    @property
    def editors(self) -> set[int]:
        return {span.annotator_id for span in self.spans}

    @property
    def span_ids(self) -> list[int]:
        return sorted(span.id for span in self.spans)


class ConflictKind:
    LABELS = "labels"  # same range, different labels
    BOUNDARIES = "boundaries"  # overlapping ranges with different boundaries
    MISSING = "missing"  # spans only some editors made


KIND_TEXT = {
    ConflictKind.LABELS: "Same range, different labels",
    ConflictKind.BOUNDARIES: "Overlapping, different boundaries",
    ConflictKind.MISSING: "Only some editors marked this",
}


@dataclass
class Conflict:
    versions: list[Version]
    settled: bool = False

    @property
    def start(self) -> int:
        return min(version.start for version in self.versions)

    @property
    def end(self) -> int:
        return max(version.end for version in self.versions)

    @property
    def span_ids(self) -> list[int]:
        return sorted(span_id for version in self.versions for span_id in version.span_ids)

    @property
    def ident(self) -> int:
        """Names the conflict on the page (element id, the text's marker): its first editor span's id. No two
        conflicts share a span, and settling one leaves every other's name as it was, so a fragment can redraw
        one conflict without numbering the rest."""
        return min(span.id for version in self.versions for span in version.spans)

    @property
    def key(self) -> str:
        """Names the conflict in a form: its editor spans' ids, so a post about a conflict that has since
        changed (an editor edited a span) no longer matches and is refused."""
        return ",".join(map(str, self.span_ids))

    @property
    def kind(self) -> str:
        ranges = {(version.start, version.end) for version in self.versions}
        if len(ranges) > 1:
            return ConflictKind.BOUNDARIES
        if len(self.versions) > 1:
            return ConflictKind.LABELS
        return ConflictKind.MISSING

    def versions_of(self, editor_id: int) -> list[Version]:
        return [version for version in self.versions if editor_id in version.editors]


@dataclass
class Alignment:
    editor_ids: list[int]
    agreed: list[Version]
    conflicts: list[Conflict]
    decided: set[int]

    def agreed_open(self) -> list[Version]:
        return [version for version in self.agreed if not set(version.span_ids) <= self.decided]

    def open_conflicts(self) -> list[Conflict]:
        return [conflict for conflict in self.conflicts if not conflict.settled]

    def conflict(self, key: str) -> Conflict | None:
        return next((conflict for conflict in self.conflicts if conflict.key == key), None)


def align(spans: Iterable[EditorSpan], *, editor_ids: Sequence[int], decided: set[int]) -> Alignment:
    """Versions every editor of ``editor_ids`` made are agreed; the rest grouped by overlap into conflicts."""
    by_place: dict[tuple[int, int, int], Version] = {}
    for span in spans:
        key = (span.start, span.end, span.label_id)
        version = by_place.get(key)
        if version is None:
            version = by_place[key] = Version(span.label_id, span.start, span.end, span.text)
        version.spans.append(span)
    everyone = set(editor_ids)
    agreed: list[Version] = []
    others: list[Version] = []
    for key in sorted(by_place):
        version = by_place[key]
        (agreed if everyone and version.editors >= everyone else others).append(version)
    conflicts: list[Conflict] = []
    current: list[Version] = []
    reach = -1
    # Sorted by start: a version joins the running group while it starts before the group's furthest end.
    for version in sorted(others, key=lambda v: (v.start, -v.end, v.label_id)):
        if current and version.start >= reach:
            conflicts.append(Conflict(current))
            current = []
        current.append(version)
        reach = max(reach, version.end) if len(current) > 1 else version.end
    if current:
        conflicts.append(Conflict(current))
    for conflict in conflicts:
        conflict.settled = set(conflict.span_ids) <= decided
    return Alignment(list(editor_ids), agreed, conflicts, decided)


def majority_winner(conflict: Conflict, *, threshold: int) -> Version | None:
    """The one version at least ``threshold`` editors made, if exactly one has; else None."""
    winners = [version for version in conflict.versions if len(version.editors) >= threshold]
    return winners[0] if len(winners) == 1 else None


def layers_state(spans: Iterable[EditorSpan], editor_ids: Sequence[int]) -> str:
    """A fingerprint of the editors' layers as drawn: marking reviewed compares it with the current one (#6314)."""
    digest = hashlib.sha256(repr(sorted(editor_ids)).encode())
    for span in sorted(spans):
        digest.update(repr(tuple(span)).encode())
    return digest.hexdigest()[:32]

"""``brat``: a zip holding one brat collection, ``collection/``: ``<article id>.txt`` + ``<article id>.ann`` per
article, ``annotation.conf`` and ``visual.conf``; beside it (outside the collection, not a ``.txt``, so brat and
brat readers never take it for a document) ``newsnotes-report.md``.

``.ann`` lines: ``T1<TAB>LABEL START END<TAB>TEXT`` (a span across line breaks becomes fragments
``START END;START END``, as brat itself writes them), notes as ``#1<TAB>AnnotatorNotes T1<TAB>NOTE`` and
attributes as ``A1<TAB>Verdict T1 disputed`` (a one-word string value) or ``A1<TAB>Flag T1`` (``true``).
An attribute ``<name>_span`` holding the id of another exported span (a claim's ``speaker_span``) becomes
a relation, ``R1<TAB>Speaker Arg1:T2 Arg2:T1``. Offsets are code points, as in brat. The configuration is
generated from the label set (names, colours) and the attributes and relations present. What brat cannot
hold (annotator, origin, times; multi-word or non-string attribute values; line breaks in notes or at a
span's edges; a second annotator's span identical in label and offsets to one already written, which becomes
the same brat entity) is listed in ``newsnotes-report.md`` and passed to ``on_dropped``. Zip entries
are dated 1980-01-01 so the same data gives the same bytes.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from annotations.exports.common import CHUNK_BYTES
from annotations.exports.query import ExportFilters, iter_articles
from annotations.models import Label

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
COLLECTION = "collection/"
REPORT = "newsnotes-report.md"
# Characters with a meaning in .ann or .conf lines; a type, attribute or value cannot hold them.
_SYNTAX = re.compile(r"[\s:,|;=<>!#]")


REPORT_HEAD = (
    "NewsNotes brat export: the brat collection is the folder `collection/` (copy it into brat's `data/`).\n"
    "brat's standoff format has no place for a span's annotator, origin or times,\n"
    "so this export leaves them out (the CSV, JSONL and Label Studio exports keep them).\n"
)


def brat_name(name: str) -> str:
    return _SYNTAX.sub("_", name) or "_"


def attribute_name(key: str) -> str:
    return brat_name(key[:1].upper() + key[1:])


class _Sink:
    """A write-only, unseekable file for ``zipfile``: what is written is collected and handed on."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0
        self.pending = 0

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        self.pending += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        self.pending = 0
        return data


def _fragments(body: str, start: int, end: int) -> list[tuple[int, int]]:
    return [(start + m.start(), start + m.end()) for m in re.finditer(r"[^\n]+", body[start:end])]


def ann_text(article, spans, report: Callable[[str], None], seen: dict) -> str:
    """The .ann lines of one article; ``seen`` collects types, attributes and relations for the .conf files."""
    kept = []
    # brat has no annotator: the same label on the same text by several annotators is one brat entity.
    first: dict[tuple, Any] = {}
    alias: dict[int, int] = {}
    for span in spans:
        fragments = _fragments(article.body, span.start, span.end)
        if not fragments or fragments[0][0] != span.start or fragments[-1][1] != span.end:
            report(f"{_where(span, article)}: starts or ends with a line break, which brat cannot mark; left out")
            continue
        twin = first.setdefault((span.label, span.start, span.end), span)
        if twin is not span:
            alias[span.pk] = twin.pk
            lost = " (its note and attributes are not written)" if span.note or span.attributes else ""
            report(
                f"{_where(span, article)} by {span.annotator} is identical to span {twin.pk} by {twin.annotator}; "
                f"written once{lost}"
            )
            continue
        kept.append((span, fragments))
    ident = {span.pk: f"T{t}" for t, (span, _) in enumerate(kept, start=1)}
    ident.update({pk: ident[twin] for pk, twin in alias.items()})
    kinds = {span.pk: brat_name(span.label) for span, _ in kept}
    kinds.update({pk: kinds[twin] for pk, twin in alias.items()})
    lines = []
    a = n = r = 0
    for span, fragments in kept:
        where, t, kind = _where(span, article), ident[span.pk], kinds[span.pk]
        if kind != span.label:
            report(f"{where}: label {span.label!r} is written as {kind!r} (brat types have no spaces or :,|;=<>!#)")
        covered = " ".join(article.body[s:e] for s, e in fragments)
        lines.append(f"{t}\t{kind} {';'.join(f'{s} {e}' for s, e in fragments)}\t{covered}")
        if span.note:
            note = " ".join(span.note.splitlines())
            if note != span.note:
                report(f"{where}: note has line breaks; brat notes are one line, so they became spaces")
            n += 1
            lines.append(f"#{n}\tAnnotatorNotes {t}\t{note}")
        for key in sorted(span.attributes):
            value = span.attributes[key]
            if key.endswith("_span") and len(key) > 5 and isinstance(value, int) and not isinstance(value, bool):
                # A reference to another span (a claim's speaker) is a brat relation.
                if value not in ident:
                    report(f"{where}: attribute {key}={value} points at a span that is not in this export; left out")
                    continue
                name = attribute_name(key[:-5])
                r += 1
                lines.append(f"R{r}\t{name} Arg1:{t} Arg2:{ident[value]}")
                seen["relations"][name]["Arg1"].add(kind)
                seen["relations"][name]["Arg2"].add(kinds[value])
                continue
            name = attribute_name(key)
            if value is not True and not (isinstance(value, str) and value and not _SYNTAX.search(value)):
                report(f"{where}: attribute {key}={value!r} has no brat form (true, or one word); left out")
                continue
            a += 1
            lines.append(f"A{a}\t{name} {t}" if value is True else f"A{a}\t{name} {t} {value}")
            seen["attributes"][name]["types"].add(kind)
            if value is not True:
                seen["attributes"][name]["values"].add(value)
            if name != key[:1].upper() + key[1:]:
                report(f"{where}: attribute {key!r} is written as {name!r}")
    return "".join(line + "\n" for line in lines)


def _where(span, article) -> str:
    return f"span {span.pk} {span.label} {span.start}-{span.end} (article {article.pk})"


def new_seen() -> dict:
    return {
        "attributes": defaultdict(lambda: {"types": set(), "values": set()}),
        "relations": defaultdict(lambda: {"Arg1": set(), "Arg2": set()}),
    }


def annotation_conf(labels: list[Label], seen: dict) -> str:
    lines = ["# Generated by NewsNotes from its label set.", "[entities]"]
    lines += [brat_name(label.name) for label in labels]
    lines += ["", "[relations]", "<OVERLAP>\tArg1:<ENTITY>, Arg2:<ENTITY>, <OVL-TYPE>:<ANY>"]
    for name in sorted(seen["relations"]):
        args = seen["relations"][name]
        lines.append(f"{name}\tArg1:{'|'.join(sorted(args['Arg1']))}, Arg2:{'|'.join(sorted(args['Arg2']))}")
    lines += ["", "[events]", "", "[attributes]"]
    for name in sorted(seen["attributes"]):
        attribute = seen["attributes"][name]
        spec = f"{name}\tArg:{'|'.join(sorted(attribute['types']))}"
        if attribute["values"]:
            spec += f", Value:{'|'.join(sorted(attribute['values']))}"
        lines.append(spec)
    return "\n".join(lines) + "\n"


def visual_conf(labels: list[Label]) -> str:
    lines = ["[labels]"]
    lines += [f"{brat_name(label.name)} | {label.name}" for label in labels]
    lines += ["", "[drawing]"]
    lines += [f"{brat_name(label.name)}\tbgColor:{label.color}" for label in labels]
    return "\n".join(lines) + "\n"


def _entry(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def write(
    filters: ExportFilters,
    *,
    on_rows: Callable[[int], None] | None = None,
    on_dropped: Callable[[str], None] | None = None,
) -> Iterator[bytes]:
    sink = _Sink()
    dropped: list[str] = []
    seen = new_seen()
    with zipfile.ZipFile(sink, "w") as archive:  # type: ignore[call-overload]
        for article in iter_articles(filters):
            archive.writestr(_entry(f"{COLLECTION}{article.pk}.txt"), article.body.encode())
            archive.writestr(
                _entry(f"{COLLECTION}{article.pk}.ann"), ann_text(article, article.spans, dropped.append, seen).encode()
            )
            if on_rows:
                on_rows(1)
            if sink.pending >= CHUNK_BYTES:
                yield sink.drain()
        labels = list(Label.objects.order_by("ordering", "name"))
        archive.writestr(_entry(f"{COLLECTION}annotation.conf"), annotation_conf(labels, seen).encode())
        archive.writestr(_entry(f"{COLLECTION}visual.conf"), visual_conf(labels).encode())
        report = REPORT_HEAD + (
            f"{len(dropped)} thing(s) brat could not hold:\n" + "".join(f"{m}\n" for m in dropped)
            if dropped
            else "Everything else was exported.\n"
        )
        archive.writestr(_entry(REPORT), report.encode())
        for message in dropped:
            if on_dropped:
                on_dropped(message)
    yield sink.drain()


def read(data: bytes) -> dict[str, list[dict]]:
    """The spans in a brat zip, per document name: ``{"label", "start", "end", "text", "note", "attributes"}``.

    Documents are read from ``collection/`` (or from the top of the zip, where exports before it was
    introduced put them).

    Checks every T line's text against the .txt, so a reader of our export gets exact code-point offsets.
    A relation ``R1<TAB>Speaker Arg1:T2 Arg2:T1`` comes back as the attribute ``speaker_span`` of T2, holding
    T1's ``(label, start, end)``.
    """
    documents: dict[str, list[dict]] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in sorted(archive.namelist()):
            folder, _, leaf = name.rpartition("/")
            if not leaf.endswith(".ann") or folder not in ("", COLLECTION.rstrip("/")):
                continue
            stem = leaf.removesuffix(".ann")
            body = archive.read(name.removesuffix(".ann") + ".txt").decode()
            spans: dict[str, dict] = {}
            relations: list[tuple[str, str, tuple]] = []
            for line in archive.read(name).decode().splitlines():
                if line.startswith("T"):
                    ident, head, text = line.split("\t", 2)
                    label, _, ranges = head.partition(" ")
                    fragments = [tuple(map(int, part.split(" "))) for part in ranges.split(";")]
                    if " ".join(body[s:e] for s, e in fragments) != text:
                        raise ValueError(f"{name}: {ident} text does not match the .txt")
                    spans[ident] = {
                        "label": label,
                        "start": fragments[0][0],
                        "end": fragments[-1][1],
                        "text": body[fragments[0][0] : fragments[-1][1]],
                        "note": "",
                        "attributes": {},
                    }
                elif line.startswith("#"):
                    _, head, note = line.split("\t", 2)
                    spans[head.split(" ")[1]]["note"] = note
                elif line.startswith("R"):
                    _, head = line.split("\t")
                    name, arg1, arg2 = head.split(" ")
                    target = spans[arg2.removeprefix("Arg2:")]
                    key = name[:1].lower() + name[1:] + "_span"
                    relations.append(
                        (arg1.removeprefix("Arg1:"), key, (target["label"], target["start"], target["end"]))
                    )
                elif line.startswith("A"):
                    _, head = line.split("\t")
                    parts = head.split(" ")
                    key = parts[0][:1].lower() + parts[0][1:]
                    spans[parts[1]]["attributes"][key] = parts[2] if len(parts) > 2 else True
            for source, key, target in relations:
                spans[source]["attributes"][key] = target
            documents[stem] = list(spans.values())
    return documents

"""``manage.py export_spans --format FORMAT [filters] -o PATH``: the research exports from the shell."""

from __future__ import annotations

import codecs
import datetime as dt
import os
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from tqdm import tqdm

from annotations.exports import FORMATS, LAYERS, ExportFilters, ExportOptions, count, export, resolve_layer
from annotations.exports.query import GOLD_FIRST_FORMATS
from annotations.models import Label, Span
from articles.models import Article, Source
from articles.validation import day_in_range


def _day(value: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{value!r} is not a date; write it as YYYY-MM-DD") from None
    if not day_in_range(day):
        raise CommandError(f"{value} is outside the dates articles can have (1000-01-01 to 9998-12-31)")
    return day


def _resolve(model, names: list[str], lookups: tuple[str, ...], what: str, shown: str) -> tuple[int, ...]:
    """Ids of the rows matching each name (case-insensitively on any of ``lookups``); unknown names are an error."""
    ids = []
    for name in names:
        query = Q()
        for lookup in lookups:
            query |= Q(**{f"{lookup}__iexact": name.strip()})
        found = list(model.objects.filter(query).values_list("pk", flat=True))
        if not found:
            known = ", ".join(sorted(model.objects.values_list(shown, flat=True))[:30])
            raise CommandError(f"unknown {what} {name!r}; known: {known or '(none)'}")
        ids.extend(found)
    return tuple(sorted(set(ids)))


class Command(BaseCommand):
    help = (
        "Export spans for research (see README: Exports): csv (one row per span), articles-csv, jsonl (doccano), "
        "label-studio, conll (IOB2), brat (zip) or w3c (Web Annotation JSON-LD). Filters combine with AND; "
        "repeat one to allow several values."
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", "-f", choices=list(FORMATS), default="csv", help="default: csv")
        parser.add_argument("-o", "--output", default="-", help="file to write (default: standard output)")
        parser.add_argument("--label", action="append", default=[], help="label name or slug (repeatable)")
        parser.add_argument(
            "--from",
            dest="layer",
            choices=LAYERS,
            default="",
            help="which spans: the reviewers' gold layer, every editor's, or all (default: all for csv, jsonl and "
            "label-studio, which mark each span's layer; gold when the selection has any, else editors, for conll, "
            "brat and w3c)",
        )
        parser.add_argument("--source", action="append", default=[], help="source domain or name (repeatable)")
        parser.add_argument("--annotator", action="append", default=[], help="username (repeatable)")
        parser.add_argument("--status", action="append", default=[], choices=Article.Status.values)
        parser.add_argument("--origin", action="append", default=[], choices=Span.Origin.values)
        parser.add_argument(
            "--q",
            default="",
            help='articles whose title or body has these words, as the queue searches: "Corv" '
            'finds Corvane (words match as prefixes), "a phrase", -word',
        )
        parser.add_argument("--published-from", type=_day, help="YYYY-MM-DD, inclusive")
        parser.add_argument("--published-to", type=_day, help="YYYY-MM-DD, inclusive")
        parser.add_argument(
            "--annotated-only", action="store_true", help="article formats: leave out articles without a matching span"
        )
        parser.add_argument(
            "--raw",
            action="store_true",
            help="csv: do not defuse cells starting with = + - @ TAB CR (for programs, not spreadsheets)",
        )
        parser.add_argument("--bom", action="store_true", help="csv: start with a UTF-8 byte order mark (Excel)")
        parser.add_argument(
            "--include-suggestions",
            action="store_true",
            help="csv, jsonl, label-studio: add pending suggestions (not yet accepted by any editor), marked origin "
            "pending-suggestion (label-studio: as predictions); off by default",
        )
        parser.add_argument(
            "--offsets",
            choices=["codepoints", "utf16"],
            default="codepoints",
            help="jsonl, label-studio: count offsets in code points (default) or UTF-16 code units, as doccano and "
            "older Label Studio do",
        )

    def handle(self, *args, format, output, verbosity=1, **options):
        fmt = FORMATS[format]
        labels = list(options["label"])
        User = get_user_model()
        filters = ExportFilters(
            labels=_resolve(Label, labels, ("name", "slug"), "label", "name"),
            sources=_resolve(Source, options["source"], ("domain", "name"), "source", "domain"),
            annotators=_resolve(User, options["annotator"], (User.USERNAME_FIELD,), "annotator", User.USERNAME_FIELD),
            statuses=tuple(options["status"]),
            origins=tuple(options["origin"]),
            published_from=options["published_from"],
            published_to=options["published_to"],
            annotated_only=options["annotated_only"],
            layer=options["layer"],
            q=options["q"].strip(),
        )
        filters = resolve_layer(format, filters)
        export_options = ExportOptions(
            neutralise=not options["raw"],
            bom=options["bom"],
            utf16=options["offsets"] == "utf16",
            suggestions=options["include_suggestions"],
        )
        to_stdout = output == "-"
        if to_stdout and format == "brat" and sys.stdout.isatty():
            raise CommandError("brat exports a zip; write it to a file with -o PATH.zip")
        dropped: list[str] = []
        show_progress = verbosity > 0 and sys.stderr.isatty()
        total = count(format, filters) if show_progress else None
        written = 0
        with tqdm(
            total=total, unit=f" {fmt.unit}s", disable=not show_progress, file=sys.stderr, unit_scale=True
        ) as bar:

            def advance(n: int) -> None:
                nonlocal written
                written += n
                bar.update(n)

            chunks = export(format, filters, export_options, on_rows=advance, on_dropped=dropped.append)
            if to_stdout:
                stream = self.stdout._out
                binary = getattr(stream, "buffer", None)
                decode = codecs.getincrementaldecoder("utf-8")().decode
                for chunk in chunks:
                    if binary is not None:
                        binary.write(chunk)
                    elif format == "brat":
                        raise CommandError("brat exports a zip; write it to a file with -o PATH.zip")
                    else:
                        stream.write(decode(chunk))
                stream.flush()
            else:
                target = Path(output)
                # Written beside the target and renamed at the end: a failed export leaves no half file behind.
                partial = target.with_name(target.name + ".partial")
                try:
                    with partial.open("wb") as out:
                        for chunk in chunks:
                            out.write(chunk)
                    os.replace(partial, target)
                except BaseException:
                    partial.unlink(missing_ok=True)
                    raise
        report = self.stderr if to_stdout else self.stdout
        for message in dropped:
            self.stderr.write(message if format == "conll" else f"left out: {message}")
        if verbosity > 0:
            where = "standard output" if to_stdout else output
            unit = fmt.unit if written == 1 else f"{fmt.unit}s"
            layer = {"gold": "gold layer", "editors": "editors' layers", "all": "gold and editors' layers"}[
                filters.layer
            ]
            if format in GOLD_FIRST_FORMATS and not options["layer"]:
                layer += " (gold by default when the selection has any)"
            summary = f"wrote {written:,} {unit} ({fmt.title}) to {where}"
            if format != "articles-csv":
                summary += f"; {layer}"
            if format == "conll" and dropped:
                summary += "; " + ", ".join(
                    f"{n} {kind}"
                    for kind in ("left out", "written once", "note")
                    if (n := sum(m.startswith(kind + ":") for m in dropped))
                )
                summary += " (listed above; the file holds tokens and tags only)"
            elif dropped:
                summary += f"; {len(dropped)} thing(s) brat cannot hold, listed above and in newsnotes-report.md"
            report.write(summary)

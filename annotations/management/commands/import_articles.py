"""``manage.py import_articles PATH...``: JSONL, CSV or folders of .txt files, all or nothing."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotations.imports.forked import few_collections, read_in_child
from annotations.imports.offsets import CHOICES as OFFSET_CHOICES
from annotations.imports.records import spans_resolved
from annotations.imports.registry import read_paths
from annotations.imports.services import MAX_EDITORS_PER_ARTICLE, corpus_import
from articles.importers import ImportFailure


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    if number > MAX_EDITORS_PER_ARTICLE:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_EDITORS_PER_ARTICLE}")
    return number


class Command(BaseCommand):
    help = (
        "Import articles from JSONL, CSV or folders of .txt files, and annotated doccano JSONL or Label Studio "
        "JSON with their spans (see README: Import format). "
        "All or nothing: the first bad line stops the import and nothing is stored."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="files or folders")
        parser.add_argument("--annotator", help="username that owns spans in inputs that carry no annotator")
        parser.add_argument(
            "--editors-per-article",
            type=_positive,
            metavar="N",
            help="how many editors label each imported article (stored on each; default: the source's, else the "
            "site-wide setting)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check the input and report, store nothing")
        parser.add_argument(
            "--offsets",
            choices=OFFSET_CHOICES,
            default="auto",
            help="what span offsets in doccano/Label Studio files count: code points, UTF-16 code units (what "
            "JavaScript counts), grapheme clusters (doccano's 'count grapheme clusters as one character'), or auto: "
            "decide from the spans, refusing when several units fit and give different spans (default)",
        )
        parser.add_argument(
            "--user-map",
            type=Path,
            help="CSV file of rows theirs,ours: an annotator as the file names it (a Label Studio user id, a "
            "doccano user, an email) and our username",
        )
        parser.add_argument(
            "--create-users",
            action="store_true",
            help="create unknown annotators as inactive users without a password (loading a corpus into an "
            "empty instance)",
        )

    def handle(
        self,
        *args,
        paths,
        annotator=None,
        dry_run=False,
        offsets="auto",
        user_map=None,
        create_users=False,
        verbosity=1,
        editors_per_article=None,
        **options,
    ):
        show_progress = sys.stderr.isatty() and verbosity > 0
        notices: list[str] = []
        try:
            users = read_user_map(user_map) if user_map else None
            # Read, resolved and stored a batch at a time: a file of any size streams through one transaction.
            # One tool's files given together share one offset unit (doccano's one file per user); what a batch
            # rules out holds for the batches after it (``spans_resolved``).
            # Fewer collector passes, in both processes (the child is forked inside: it inherits them).
            with few_collections():
                # Read in a child process (annotations.imports.forked), forked now, before the progress bar's thread.
                records = read_in_child(
                    lambda notify: spans_resolved(
                        read_paths(paths, offsets=offsets, notify=notify, defer=True), offsets=offsets, notify=notify
                    ),
                    notify=notices.append,
                )
                with tqdm(desc="importing", unit=" records", disable=not show_progress, file=sys.stderr) as bar:
                    result = corpus_import(
                        records=records,
                        default_annotator=annotator,
                        user_map=users,
                        create_users=create_users,
                        dry_run=dry_run,
                        progress=bar.update,
                        editors_per_article=editors_per_article,
                        # The full-text vectors follow in a job right after the commit (README: Import throughput).
                        defer_search=True,
                    )
        except ImportFailure as err:
            raise CommandError(str(err), returncode=1) from None
        for notice in dict.fromkeys(notices):
            self.stdout.write(self.style.WARNING(f"note: {notice}"))
        for record, reason in result.duplicates:
            if verbosity > 1:
                self.stdout.write(f"{record.location}: skipped duplicate: {reason}")
        verb = "would import" if dry_run else "imported"
        summary = (
            f"{verb} {result.created_count} article{'s' if result.created_count != 1 else ''}"
            f" and {result.span_count} span{'s' if result.span_count != 1 else ''};"
            f" skipped {result.duplicate_count} duplicate{'s' if result.duplicate_count != 1 else ''}"
        )
        if result.layered_span_count:
            summary += (
                f"; {result.layered_span_count} of the spans added to {result.layered_article_count} article(s)"
                " already in the corpus or earlier in the import"
            )
        if result.present_span_count:
            summary += f"; {result.present_span_count} span(s) already present, not added again"
        if not result.created_count and not result.span_count and (result.duplicate_count or result.present_span_count):
            summary += " (everything in the input is already in the corpus)"
        if result.created_users:
            summary += f"; created inactive user(s) {', '.join(result.created_users)}"
        self.stdout.write(self.style.SUCCESS(summary))


def read_user_map(path: Path) -> dict[str, str]:
    """``theirs,ours`` rows (an optional header row ``theirs,ours``) as a dict; refused with file and line."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise ImportFailure(path, None, f"cannot read the user map: {err}") from None
    mapping: dict[str, str] = {}
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise ImportFailure(path, number, "expected two columns: theirs,ours")
        theirs, ours = row[0].strip(), row[1].strip()
        if number == 1 and (theirs, ours) == ("theirs", "ours"):
            continue
        if theirs in mapping and mapping[theirs] != ours:
            raise ImportFailure(path, number, f"{theirs!r} is mapped twice")
        mapping[theirs] = ours
    return mapping

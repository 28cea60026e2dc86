"""``manage.py import_articles PATH...``: JSONL, CSV or folders of .txt files, all or nothing."""

from __future__ import annotations

import argparse
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotations.imports.offsets import CHOICES as OFFSET_CHOICES
from annotations.imports.registry import read_paths
from annotations.imports.services import corpus_import
from articles.importers import ImportFailure


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
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
            "JavaScript counts), or auto: decide from the span texts and say which was assumed (default)",
        )

    def handle(
        self,
        *args,
        paths,
        annotator=None,
        dry_run=False,
        offsets="auto",
        verbosity=1,
        editors_per_article=None,
        **options,
    ):
        show_progress = sys.stderr.isatty() and verbosity > 0
        notices: list[str] = []
        try:
            records = list(
                tqdm(
                    read_paths(paths, offsets=offsets, notify=notices.append),
                    desc="reading",
                    unit=" articles",
                    disable=not show_progress,
                    file=sys.stderr,
                )
            )
            with tqdm(
                total=len(records), desc="storing", unit=" articles", disable=not show_progress, file=sys.stderr
            ) as bar:
                result = corpus_import(
                    records=records,
                    default_annotator=annotator,
                    dry_run=dry_run,
                    progress=bar.update,
                    editors_per_article=editors_per_article,
                )
        except ImportFailure as err:
            raise CommandError(str(err), returncode=1) from None
        for notice in notices:
            self.stdout.write(self.style.WARNING(f"note: {notice}"))
        for record, reason in result.duplicates:
            if verbosity > 1:
                self.stdout.write(f"{record.location}: skipped duplicate: {reason}")
        verb = "would import" if dry_run else "imported"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {result.created_count} article{'s' if result.created_count != 1 else ''}"
                f" and {result.span_count} span{'s' if result.span_count != 1 else ''};"
                f" skipped {result.duplicate_count} duplicate{'s' if result.duplicate_count != 1 else ''}"
            )
        )

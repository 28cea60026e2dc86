"""``manage.py find_boilerplate [--format json]``: re-find boilerplate families over the whole corpus."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand
from tqdm import tqdm

from annotations.suggestions.boilerplate import boilerplate_rebuild
from annotations.suggestions.selectors import families_as_json


class Command(BaseCommand):
    help = (
        "Rebuild boilerplate families over the whole corpus (README: Boilerplate families). Dismissed families "
        "stay dismissed. --format json prints the active families as one JSON list, largest first: "
        '[{"id", "text", "articles": [ids], "sources", "copies", "labelled"}].'
    )

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["text", "json"], default="text", help="default: text")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on standard error")

    def handle(self, *args, **options):
        bar = tqdm(total=0, unit="article", desc="boilerplate", file=sys.stderr, disable=options["no_progress"] or None)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        result = boilerplate_rebuild(progress=progress)
        bar.close()
        if options["format"] == "json":
            self.stdout.write(json.dumps(families_as_json(), ensure_ascii=False))
            return
        self.stdout.write(
            f"{result.families} families ({result.copies} copies) in {result.articles} articles, "
            f"{result.passages} passages, {result.seconds:.1f} s; {result.dismissed} dismissed families found again."
        )

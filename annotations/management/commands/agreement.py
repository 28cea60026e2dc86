"""``manage.py agreement [--label L] [--source S] [--format table|json|csv]``: how far editors agree."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotations.agreement.queries import Scope, label_named, source_named
from annotations.agreement.report import agreement_compute, csv_text, scope_articles, table_text, to_tokenize
from annotations.models import Label
from articles.models import Source


class Command(BaseCommand):
    help = (
        "Agreement between editors (exact and overlap span F1, Cohen's kappa, Krippendorff's alpha over CoNLL "
        "tokens) and of each editor with gold, per label and overall. See README, 'Agreement'."
    )

    def add_arguments(self, parser):
        parser.add_argument("--label", help="only this label (name or slug); per-label kappa/alpha are binary")
        parser.add_argument("--source", help="only articles of this source (domain or name)")
        parser.add_argument("--format", choices=["table", "json", "csv"], default="table")
        parser.add_argument(
            "--raw", action="store_true", help="csv: do not defuse cells starting with = + - @ TAB CR (names)"
        )

    def handle(self, *args, format, verbosity=1, **options):
        label = source = None
        if options["label"]:
            label = label_named(options["label"])
            if label is None:
                known = ", ".join(Label.objects.order_by("name").values_list("name", flat=True))
                raise CommandError(f"unknown label {options['label']!r}; known: {known or '(none)'}")
        if options["source"]:
            source = source_named(options["source"])
            if source is None:
                known = ", ".join(Source.objects.order_by("domain").values_list("domain", flat=True)[:30])
                raise CommandError(f"unknown source {options['source']!r}; known: {known or '(none)'}")
        scope = Scope(label=label, source=source)
        show = verbosity > 0 and sys.stderr.isatty()
        tokenize_total = to_tokenize(scope) if show else None
        article_total = scope_articles(scope).count() if show else None
        with (
            tqdm(total=tokenize_total, desc="tokenizing", unit=" articles", disable=not show, file=sys.stderr) as tok,
            tqdm(total=article_total, desc="measuring", unit=" articles", disable=not show, file=sys.stderr) as bar,
        ):
            report = agreement_compute(scope, on_tokenized=tok.update, on_article=bar.update)
        if format == "json":
            self.stdout.write(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
        elif format == "csv":
            self.stdout.write("".join(csv_text(report, neutralise_cells=not options["raw"])), ending="")
        else:
            self.stdout.write(table_text(report), ending="")

"""``manage.py propagate_labels --as CURATOR [--label PERSON ...]``: editors' entity spans as a gazetteer."""

from __future__ import annotations

import sys

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotations.models import Label
from annotations.suggestions.propagation import gazetteer_propagate


class Command(BaseCommand):
    help = (
        "Suggest every labelled entity string (editors' PERSON, ORG... spans) wherever else it occurs in the "
        "corpus as a whole word, never across or over a span with another label. Places already suggested, "
        "and suggestions an editor rejected, stay as they are. Runs in batches with a progress bar."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as", dest="username", required=True, help="the curator doing it (recorded)")
        parser.add_argument("--label", action="append", default=[], help="label name (repeatable; default: all)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on standard error")

    def handle(self, *args, username, label, no_progress=False, **options):
        actor = get_user_model().objects.filter(username=username).first()
        if actor is None:
            raise CommandError(f"No user named {username!r}.")
        labels = None
        if label:
            labels = list(Label.objects.filter(name__in=label))
            missing = set(label) - {found.name for found in labels}
            if missing:
                raise CommandError(f"Unknown label(s): {', '.join(sorted(missing))}.")
        bar = tqdm(total=0, unit="article", desc="propagating", file=sys.stderr, disable=no_progress or None)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            result = gazetteer_propagate(actor=actor, labels=labels, progress=progress)
        except PermissionDenied as error:
            raise CommandError(str(error)) from None
        finally:
            bar.close()
        self.stdout.write(
            f"{result.created} suggestion{'s' if result.created != 1 else ''} from {result.terms} "
            f"term{'s' if result.terms != 1 else ''} over {result.articles} articles."
        )

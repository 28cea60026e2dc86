"""``manage.py load_demo``: the demo corpus, the four demo users and a few example spans. Idempotent."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

import articles
from annotations.imports.services import corpus_import
from annotations.models import Label
from annotations.spans.services import span_create_in_workspace
from annotations.suggestions.boilerplate import boilerplate_rebuild
from annotations.suggestions.propagation import suggestions_propagate_span
from annotations.suggestions.selectors import families_by_size
from annotations.suggestions.services import family_suggest
from articles.importers import jsonl
from articles.models import Article

DEMO_CORPUS = Path(articles.__file__).parent / "demo" / "corpus.jsonl"

# Demo logins: printed by this command and by `make run`. They are for a local demo database only.
DEMO_USERS = [
    # username, password, group, is_staff
    ("editor", "editor-newsnotes", "Editors", False),
    ("reviewer", "reviewer-newsnotes", "Reviewers", False),
    ("researcher", "researcher-newsnotes", "Researchers", False),
    ("curator", "curator-newsnotes", "Curators", True),
]

SPONSORED_START = "Quillix OS is the privacy-first Linux distribution"
DEMO_REPEATED_NAME = "Noor Haddad"  # named twice in one demo story: labelling one suggests the other


class Command(BaseCommand):
    help = "Load the demo corpus and demo users (editor, reviewer, researcher, curator). Safe to run twice."

    @transaction.atomic
    def handle(self, *args, verbosity=1, **options):
        users = self._users()
        result = corpus_import(records=list(jsonl.read(DEMO_CORPUS)))
        examples = self._example_spans(users["editor"])
        suggested = self._demo_suggestions(users)
        if verbosity:
            self.stdout.write(
                f"Demo corpus: {result.created_count} new article(s), {result.duplicate_count} already present; "
                f"{examples} example span(s) added."
            )
            self.stdout.write(suggested)
            self.stdout.write("Demo logins (username / password):")
            for username, password, group, _ in DEMO_USERS:
                self.stdout.write(f"  {username:<11} {password:<22} ({group})")

    def _users(self):
        User = get_user_model()
        users = {}
        for username, password, group_name, is_staff in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username, defaults={"is_staff": is_staff})
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            user.groups.add(Group.objects.get(name=group_name))
            users[username] = user
        return users

    def _example_spans(self, editor) -> int:
        """Label the sponsored footer of two syndicated stories, so a first look shows highlights."""
        # The first active boilerplate label (SPONSORED by default), whatever a curator has renamed it to.
        sponsored = Label.objects.filter(kind=Label.Kind.BOILERPLATE, active=True).order_by("ordering", "pk").first()
        if sponsored is None:
            return 0
        created = 0
        articles = Article.objects.filter(body__contains=SPONSORED_START).order_by("published_at", "id")[:2]
        for article in articles:
            start = article.body.index(SPONSORED_START)
            end = article.body.index("\n", start) if "\n" in article.body[start:] else len(article.body)
            if not article.spans.filter(label=sponsored, start=start, end=end, annotator=editor).exists():
                span_create_in_workspace(
                    article=article, label=sponsored, start=start, end=end, text=None, annotator=editor
                )
                created += 1
        return created

    # --- suggestions (issue 12): families found, turned into suggestions, and a name propagated ---------------

    def _demo_suggestions(self, users) -> str:
        """Rebuild boilerplate families, suggest SPONSORED on every family's copies (as the curator would), and
        label one name that recurs in its story so the editor sees a propagated suggestion on first run."""
        result = boilerplate_rebuild()
        created = 0
        for family in families_by_size():
            created += family_suggest(family=family, actor=users["curator"]).created
        person = Label.objects.filter(kind=Label.Kind.ENTITY, active=True).order_by("ordering", "pk").first()
        article = Article.objects.filter(body__contains=DEMO_REPEATED_NAME).order_by("pk").first()
        if person is not None and article is not None:
            start = article.body.index(DEMO_REPEATED_NAME)
            span = span_create_in_workspace(
                article=article,
                label=person,
                start=start,
                end=start + len(DEMO_REPEATED_NAME),
                text=None,
                annotator=users["editor"],
            )
            created += suggestions_propagate_span(span=span)
        families = f"{result.families} famil{'ies' if result.families != 1 else 'y'}"
        return f"Boilerplate: {families}; {created} new suggestion(s)."

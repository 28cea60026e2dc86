"""``manage.py load_demo``: the demo corpus, the four demo users and a few example spans. Idempotent."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

import articles
from annotations.imports.services import corpus_import
from annotations.management.commands import demo_review
from annotations.models import Label
from annotations.spans.services import span_create_in_workspace
from articles.importers import jsonl
from articles.models import Article

DEMO_CORPUS = Path(articles.__file__).parent / "demo" / "corpus.jsonl"

# Demo logins: printed by this command and by `make run`. They are for a local demo database only.
DEMO_USERS = [
    # username, password, group, is_staff
    ("editor", "editor-newsnotes", "Editors", False),
    ("editor2", "editor2-newsnotes", "Editors", False),
    ("editor3", "editor3-newsnotes", "Editors", False),
    ("reviewer", "reviewer-newsnotes", "Reviewers", False),
    ("researcher", "researcher-newsnotes", "Researchers", False),
    ("curator", "curator-newsnotes", "Curators", True),
]

SPONSORED_START = "Quillix OS is the privacy-first Linux distribution"


class Command(BaseCommand):
    help = "Load the demo corpus and demo users (three editors, reviewer, researcher, curator). Safe to run twice."

    @transaction.atomic
    def handle(self, *args, verbosity=1, **options):
        users = self._users()
        result = corpus_import(records=list(jsonl.read(DEMO_CORPUS)))
        examples = self._example_spans(users["editor"])
        layered, reviewed = demo_review.build(
            editors=[users["editor"], users["editor2"], users["editor3"]], reviewer=users["reviewer"]
        )
        if verbosity:
            self.stdout.write(
                f"Demo corpus: {result.created_count} new article(s), {result.duplicate_count} already present; "
                f"{examples} example span(s) added."
            )
            self.stdout.write(
                f"Review demo: {layered} article(s) labelled by three editors (ready for review), "
                f"{reviewed} reviewed with a gold layer."
            )
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

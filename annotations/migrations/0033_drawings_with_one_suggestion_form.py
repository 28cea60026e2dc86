"""Stored drawings go: a suggestion's Accept and Reject now submit the page's one form (``#ws-sug-decide``) instead
of two forms of their own, each with a CSRF token, which made up two thirds of an item's bytes. A drawing stored
before still works, but would keep serving the heavier items until the article changes; the next visit draws
afresh."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0032_drawing_revisions_per_editor"),
    ]

    operations = [
        migrations.RunSQL("DELETE FROM annotations_workspacedrawing", reverse_sql=migrations.RunSQL.noop),
    ]

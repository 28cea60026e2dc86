"""Stored drawings go: the side panel's items and counts now carry ids (``#ws-item-<id>``, ``#ws-count-<slug>``,
``#ws-sug-item-<id>``), by which a create's answer inserts one item instead of resending the group. A drawing
stored before has none, and a page served from it could not take such an answer; the next visit draws afresh."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0030_lz4_for_large_values"),
    ]

    operations = [
        migrations.RunSQL("DELETE FROM annotations_workspacedrawing", reverse_sql=migrations.RunSQL.noop),
    ]

"""The annotate page's drawings, kept per editor and article (annotations.workspace.models.WorkspaceDrawing).

Their two columns are compressed with lz4 where the server has it: a drawing of a 10,000-word article is about
half a megabyte; its body alone (370 kB) takes pglz (the default) ~11 ms of the database's CPU and lz4 ~3 (PostgreSQL
15, measured), on every page drawn anew. A server built without lz4 keeps pglz.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0024_statement_level_history_and_span_check"),
        ("articles", "0006_search_match_cost"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="WorkspaceDrawing",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=64)),
                ("body", models.BinaryField()),
                ("spans", models.BinaryField()),
                ("body_version", models.CharField(max_length=24)),
                ("drawn_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "article",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="articles.article"
                    ),
                ),
                (
                    "editor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("article", "editor"), name="workspacedrawing_article_editor_unique")
                ],
            },
        ),
        migrations.RunSQL(
            """
            DO $$
            BEGIN
              ALTER TABLE annotations_workspacedrawing
                ALTER COLUMN body SET COMPRESSION lz4, ALTER COLUMN spans SET COMPRESSION lz4;
            EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
              NULL;
            END $$;
            """,
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]

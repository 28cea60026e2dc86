import django.contrib.postgres.indexes
from django.db import migrations, models

# The band keys of each cluster's first passage (cluster = id), so the per-article check finds a new
# near-duplicate of a repeat that is no family yet by index (issue 12); a few rows per thousand passages.


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0020_import_jobs"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="boilerplatepassage",
            index=django.contrib.postgres.indexes.GinIndex(
                condition=models.Q(("cluster", models.F("id"))),
                fastupdate=False,
                fields=["keys"],
                name="boilerplatepassage_root_keys",
            ),
        ),
    ]

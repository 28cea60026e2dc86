from django.db import migrations

from annotations.migrations._grants import grant

# Curators add, deactivate and reset the passwords of editors, reviewers and researchers (issue 14 point 9); the
# admin and annotations/curation/users.py keep superusers and other curators out of their reach.
ADDED = {"Curators": ["auth.add_user", "auth.change_user"]}


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0018_export_jobs"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [grant(ADDED)]

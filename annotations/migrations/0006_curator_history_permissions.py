from django.contrib.auth.management import create_permissions
from django.db import migrations

# What the admin console added to the Curators' work (README "Roles"):
# - add_span: restoring a deleted span re-creates it, and the span admin adds spans by offsets;
# - view the history (span and article events, and pghistory's list of all events);
# - view_user: picking editors for assignments and annotators in the span admin goes through autocomplete,
#   which shows only users the curator may view. Users stay read-only for curators.
ADDED = {
    "Curators": [
        "annotations.add_span",
        "annotations.view_spanevent",
        "annotations.view_articleevent",
        "pghistory.view_events",
        "pghistory.view_middlewareevents",
        "auth.view_user",
    ],
}


def _permissions(apps, codenames):
    Permission = apps.get_model("auth", "Permission")
    for full in codenames:
        app_label, codename = full.split(".")
        yield Permission.objects.get(content_type__app_label=app_label, codename=codename)


def add_permissions(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    for name, codenames in ADDED.items():
        Group.objects.get(name=name).permissions.add(*_permissions(apps, codenames))


def remove_permissions(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, codenames in ADDED.items():
        Group.objects.get(name=name).permissions.remove(*_permissions(apps, codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0005_history"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]
    operations = [migrations.RunPython(add_permissions, remove_permissions)]

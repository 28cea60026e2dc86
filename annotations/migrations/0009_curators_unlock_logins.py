from django.contrib.auth.management import create_permissions
from django.db import migrations

# Curators unlock logins that django-axes locked after too many failures (README "Logging in"): they see the
# access attempts and delete the ones that lock an account or address.
ADDED = {
    "Curators": [
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accessfailurelog",
        "axes.view_accesslog",
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
        ("annotations", "0008_label_slug_and_name_checks"),
        ("axes", "0010_accessattemptexpiration"),
    ]
    operations = [migrations.RunPython(add_permissions, remove_permissions)]

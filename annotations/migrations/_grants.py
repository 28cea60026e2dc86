"""Granting roles permissions in a data migration: one helper for every migration that does it.

The migration loader skips modules whose name starts with ``_``, so this is a helper, not a migration. Keep its
behaviour stable: migrations already applied ran it as it was then.
"""

from collections.abc import Mapping, Sequence

from django.contrib.auth.management import create_permissions
from django.db import migrations


def _permissions(apps, codenames):
    Permission = apps.get_model("auth", "Permission")
    for full in codenames:
        app_label, codename = full.split(".")
        yield Permission.objects.get(content_type__app_label=app_label, codename=codename)


def grant(added: Mapping[str, Sequence[str]]) -> migrations.RunPython:
    """Give each group (by name) the ``app_label.codename`` permissions listed; reversing takes them away."""

    def forward(apps, schema_editor):
        # Permissions are created after migrate by a signal; create the ones this migration needs now.
        for app_config in apps.get_app_configs():
            app_config.models_module = True
            create_permissions(app_config, verbosity=0, apps=apps)
            app_config.models_module = None
        Group = apps.get_model("auth", "Group")
        for name, codenames in added.items():
            Group.objects.get(name=name).permissions.add(*_permissions(apps, codenames))

    def backward(apps, schema_editor):
        Group = apps.get_model("auth", "Group")
        for name, codenames in added.items():
            Group.objects.get(name=name).permissions.remove(*_permissions(apps, codenames))

    return migrations.RunPython(forward, backward)

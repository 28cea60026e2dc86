from django.contrib.auth.management import create_permissions
from django.db import migrations

# Each role gets exactly what it needs; see README "Roles".
VIEW_CORPUS = ["articles.view_article", "articles.view_source", "annotations.view_label", "annotations.view_span"]
ROLES = {
    "Editors": VIEW_CORPUS + ["annotations.add_span", "annotations.change_span", "annotations.delete_span"],
    "Reviewers": VIEW_CORPUS
    + [
        "annotations.add_span", "annotations.change_span", "annotations.delete_span", "annotations.review_span",
        "articles.review_article", "annotations.view_assignment",
    ],
    "Researchers": VIEW_CORPUS + ["annotations.export_spans"],
    "Curators": VIEW_CORPUS
    + [
        "articles.add_article", "articles.change_article", "articles.delete_article", "articles.review_article",
        "articles.add_source", "articles.change_source", "articles.delete_source",
        "annotations.add_label", "annotations.change_label", "annotations.delete_label",
        "annotations.change_span", "annotations.delete_span", "annotations.review_span", "annotations.export_spans",
        "annotations.add_assignment", "annotations.change_assignment", "annotations.delete_assignment",
        "annotations.view_assignment",
    ],
}


def create_roles(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        perms = []
        for full in codenames:
            app_label, codename = full.split(".")
            perms.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(perms)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0003_span_text_and_body_triggers"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(create_roles, remove_roles)]

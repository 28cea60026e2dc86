from django.db import migrations

# Colours are light enough that body text (#1d232a) on them keeps a contrast ratio above 4.5:1,
# and distinct in hue for the common colour-vision deficiencies; names are always shown beside them.
DEFAULT_LABELS = [
    {
        "name": "PERSON", "slug": "person", "kind": "entity", "color": "#ffd166", "hotkey": "1", "ordering": 1,
        "description": "Person: a named individual (\"Mara Okonkwo\", \"Okonkwo\"). Exclude titles like \"CEO\" "
        "unless part of the name.",
    },
    {
        "name": "ORG", "slug": "org", "kind": "entity", "color": "#8ecae6", "hotkey": "2", "ordering": 2,
        "description": "Organization: a company, lab, agency or project with a name (\"Larchfield Systems\").",
    },
    {
        "name": "CLAIM", "slug": "claim", "kind": "claim", "color": "#c5e1a5", "hotkey": "3", "ordering": 3,
        "description": "Claim: a statement someone makes that can be checked. Select the statement itself; "
        "record who said it (speaker) and whether it checks out (verdict).",
    },
    {
        "name": "SPONSORED", "slug": "sponsored", "kind": "boilerplate", "color": "#f4b6c2", "hotkey": "4",
        "ordering": 4,
        "description": "Sponsored content: vendor boilerplate appended to a syndicated story, such as a paragraph "
        "advertising a product. Select the whole passage, across paragraphs if needed.",
    },
]


def create_labels(apps, schema_editor):
    Label = apps.get_model("annotations", "Label")
    for fields in DEFAULT_LABELS:
        Label.objects.update_or_create(slug=fields["slug"], defaults=fields)


def remove_labels(apps, schema_editor):
    Label = apps.get_model("annotations", "Label")
    Label.objects.filter(slug__in=[f["slug"] for f in DEFAULT_LABELS], spans__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("annotations", "0001_initial")]
    operations = [migrations.RunPython(create_labels, remove_labels)]

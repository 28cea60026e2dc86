# Joins the scale branch's stored search vector and the review/assign branches' article statuses (both 0004);
# neither touches the other's columns, so the order between them does not matter.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0004_article_search_document"),
        ("articles", "0004_article_status_per_editor_progress"),
    ]

    operations = []

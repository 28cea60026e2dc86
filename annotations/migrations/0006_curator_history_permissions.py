from django.db import migrations

from annotations.migrations._grants import grant

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



class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0005_history"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]
    operations = [grant(ADDED)]

from django.db import migrations

from annotations.migrations._grants import grant

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



class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0008_label_slug_and_name_checks"),
        ("axes", "0010_accessattemptexpiration"),
    ]
    operations = [grant(ADDED)]

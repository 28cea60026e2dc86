"""``migrate`` as the owner role when one is configured, then the app's role gets its privileges.

With ``DATABASE_OWNER_URL`` set (or the embedded default, whose owner is ``postgres``), the tables are created
and owned by the owner, and the app, connecting with ``DATABASE_URL``, can write rows but not rewrite the
history (``newsnotes/roles.py``). Without it, migrate connects as ``DATABASE_URL`` as before: one role owns
and uses everything, and the history is append-only only against the app's own code (README: History).
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import connections

from newsnotes.roles import app_role_grant, app_role_owns_tables

SWAPPED = ("USER", "PASSWORD", "HOST", "PORT")


class Command(migrate.Command):
    def handle(self, *args, **options):
        owner = getattr(settings, "DATABASE_OWNER", None)
        connection = connections[options["database"]]
        app_role = connection.settings_dict["USER"]
        if not owner or options["database"] != "default" or owner.get("USER") == app_role:
            return super().handle(*args, **options)
        kept = {key: connection.settings_dict.get(key) for key in SWAPPED}
        connection.close()
        connection.settings_dict.update({key: owner[key] for key in SWAPPED if owner.get(key) is not None})
        try:
            super().handle(*args, **options)
            with connection.cursor() as cursor:
                owned = app_role_owns_tables(cursor=cursor, app_role=app_role)
                if owned:
                    raise CommandError(
                        f"the app's role {app_role!r} owns {len(owned)} table(s) ({', '.join(owned[:5])}...), so it "
                        f"could alter or empty the history. As the owner, run REASSIGN OWNED BY {app_role} TO "
                        f"{owner['USER']}; then migrate again."
                    )
                app_role_grant(cursor=cursor, app_role=app_role, password=kept.get("PASSWORD") or None)
            if options["verbosity"] >= 1:
                self.stdout.write(
                    f"Granted the app's role {app_role!r} its privileges (migrations ran as {owner['USER']!r})."
                )
        finally:
            connection.close()
            connection.settings_dict.update(kept)
